/**
 * Nothing acknowledged is lost: a verified notification this release cannot act on (an event type or a contract
 * state it does not know, or facts that do not match what we hold) is answered 204 like any other, so it must be
 * kept. `keepUnhandled` stores it raw (its resource still encrypted) without expiry and, in the same write,
 * announces it (`NotificationUnhandled`, through the outbox), so an operator learns of it even if we die right
 * after, and applies it once a release knows how (unhandled.ts, `npm run notifications`).
 *
 * Any callback path can use it: return `outcome: 'UNHANDLED'` to functions/notify.ts, which counts the alarm's
 * metric (`NotificationUnhandled`).
 */
import type { NotificationEnvelope } from '../wechatpay/notification';
import { notificationUnhandled } from './events';
import { storedEntry } from './outbox';
import type { Clock, NotificationRecord, NotificationStore } from './ports';

/** The port: where notifications are recorded once each (DynamoNotificationStore; MemoryNotifications in tests). */
export type UnhandledNotifications = Pick<NotificationStore, 'record'>;

export interface KeepUnhandledDeps {
  notifications: UnhandledNotifications;
  clock: Clock;
}

export interface Unhandled {
  envelope: Pick<NotificationEnvelope, 'id' | 'event_type' | 'create_time'>;
  /** The verified body exactly as received: what an operator's apply decrypts again. */
  rawBody: Buffer;
  /** Why it was not acted on, in a few words: it goes into the event and the alarm, so no personal data. */
  reason: string;
  /** Our contract code, when the resource named one. */
  out_contract_code?: string;
}

/** Keeps and announces `n`, once per notification id: a redelivery is a `duplicate`, announced no more. */
export async function keepUnhandled(deps: KeepUnhandledDeps, n: Unhandled): Promise<'kept' | 'duplicate'> {
  const now = deps.clock();
  const code = n.out_contract_code;
  const kept: NotificationRecord = {
    id: n.envelope.id,
    event_type: n.envelope.event_type,
    create_time: n.envelope.create_time,
    received_at: new Date(now).toISOString(),
    ...(code ? { out_contract_code: code } : {}),
    outcome: 'UNHANDLED',
    reason: n.reason,
    raw_body: n.rawBody.toString('utf8'),
  };
  const event = notificationUnhandled({ ...kept, reason: n.reason });
  const written = await deps.notifications.record(kept, undefined, [storedEntry(event, now)]);
  // No contract is written with it, so the store cannot report a conflict.
  return written === 'duplicate' ? 'duplicate' : 'kept';
}
