/**
 * The notifications we verified and acknowledged but could not act on (an event type or a contract state this
 * release does not know), kept without expiry: an operator lists them, and applies them once a release knows
 * how (functions/notifications.ts, `npm run notifications`). Applying one is the same forward-only decision a
 * callback gets, written atomically with the notification's new outcome, so each is applied at most once.
 */
import { readNotification } from '../wechatpay/notification';
import { applyContractFacts, DEDUPE_SECONDS, type Understood, understand } from './notifications';
import type { Clock, ContractStore, NotificationRecord, NotificationStore } from './ports';

export interface UnhandledDeps {
  contracts: Pick<ContractStore, 'get'>;
  notifications: NotificationStore;
  /** The kept body is still encrypted: applying it decrypts it again. */
  apiV3Key: Buffer;
  clock: Clock;
}

/** What an operator sees of one: never the body, which holds personal data once decrypted. */
export type UnhandledView = Pick<
  NotificationRecord,
  'id' | 'event_type' | 'create_time' | 'received_at' | 'reason' | 'out_contract_code'
>;

export async function listUnhandled(
  deps: Pick<UnhandledDeps, 'notifications'>,
  limit: number,
  cursor?: string,
): Promise<{ notifications: UnhandledView[]; cursor?: string }> {
  const page = await deps.notifications.listUnhandled(limit, cursor);
  const notifications = page.notifications.map(
    ({ id, event_type, create_time, received_at, reason, out_contract_code }) => ({
      id,
      event_type,
      create_time,
      received_at,
      ...(reason ? { reason } : {}),
      ...(out_contract_code ? { out_contract_code } : {}),
    }),
  );
  return page.cursor ? { notifications, cursor: page.cursor } : { notifications };
}

export interface ApplyReport {
  /** Moved a contract forward. */
  applied: string[];
  /** Understood now, but old news for the contract: recorded, nothing moved. */
  stale: string[];
  /** This release does not know them either. */
  still_unhandled: { id: string; reason: string }[];
  /** Applied by someone else meanwhile, or not kept at all (an id that was asked for). */
  not_unhandled: string[];
}

/** Applies the kept notifications this release understands: those of `ids`, or every one (up to `limit`). */
export async function applyUnhandled(
  deps: UnhandledDeps,
  options: { ids?: string[]; limit: number },
): Promise<ApplyReport> {
  const report: ApplyReport = { applied: [], stale: [], still_unhandled: [], not_unhandled: [] };
  const kept = await keptToApply(
    (cursor) => deps.notifications.listUnhandled(options.limit, cursor),
    (n) => n.id,
    options,
    report,
  );
  for (const notification of kept) await applyOne(deps, notification, report);
  return report;
}

/**
 * The kept notifications an apply works on, read page by page from `list`: those of `ids` (each asked for but
 * not kept is reported `not_unhandled`), or every one, up to `limit`.
 */
export async function keptToApply<T>(
  list: (cursor?: string) => Promise<{ notifications: T[]; cursor?: string }>,
  idOf: (notification: T) => string,
  options: { ids?: string[]; limit: number },
  report: ApplyReport,
): Promise<T[]> {
  const wanted = options.ids && new Set(options.ids);
  const kept: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    kept.push(...page.notifications.filter((n) => !wanted || wanted.has(idOf(n))));
    cursor = page.cursor;
  } while (cursor && kept.length < options.limit && (!wanted || kept.length < wanted.size));
  for (const id of wanted ?? []) if (!kept.some((n) => idOf(n) === id)) report.not_unhandled.push(id);
  return kept.slice(0, options.limit);
}

async function applyOne(deps: UnhandledDeps, kept: NotificationRecord, report: ApplyReport): Promise<void> {
  let understood: Understood;
  try {
    understood = understand(readNotification(Buffer.from(kept.raw_body ?? '', 'utf8'), deps.apiV3Key));
  } catch (error) {
    // E.g. the APIv3 key was reset since it arrived: this one stays kept, and the others are still applied.
    report.still_unhandled.push({ id: kept.id, reason: `cannot be read: ${(error as Error).message}` });
    return;
  }
  if ('unhandled' in understood) {
    report.still_unhandled.push({ id: kept.id, reason: understood.unhandled });
    return;
  }
  const now = deps.clock();
  const { outcome: _kept, reason: _reason, ...notification } = kept;
  const result = await applyContractFacts(
    deps.contracts,
    {
      ...notification,
      settled_at: new Date(now).toISOString(),
      // Applied now: from here on it is an applied notification, remembered as long as any.
      expires_at_epoch: Math.floor(now / 1000) + DEDUPE_SECONDS,
    },
    understood.facts,
    new Date(now).toISOString(),
    (record, next) => deps.notifications.settle(record, next),
  );
  if (result.written !== 'recorded') report.not_unhandled.push(kept.id);
  else if (result.outcome === 'APPLIED') report.applied.push(kept.id);
  else report.stale.push(kept.id);
}
