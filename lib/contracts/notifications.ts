import { NotificationRejected } from '../errors';
import { parseContract, type WechatPayContract } from '../wechatpay/credit-repayment';
import type { NotificationEnvelope } from '../wechatpay/notification';
import { readDecideWrite } from './conditional-write';
import { keepUnhandled } from './keep-unhandled';
import { applyFacts, stateOf } from './lifecycle';
import type { ContractRecord } from './model';
import type {
  Clock,
  ContractStore,
  NotificationOutcome,
  NotificationRecord,
  NotificationStore,
} from './ports';

/** WeChat Pay retries for about an hour; a week of memory is ample to recognise its duplicates. */
export const DEDUPE_SECONDS = 7 * 24 * 3600;

const CONTRACT_EVENTS = new Set(['CREDIT_REPAYMENT.SIGN_CONTRACT', 'CREDIT_REPAYMENT.TERMINATE_CONTRACT']);

export interface ApplyNotificationDeps {
  contracts: Pick<ContractStore, 'get'>;
  notifications: Pick<NotificationStore, 'record'>;
  clock: Clock;
}

export interface OpenedNotification {
  envelope: NotificationEnvelope;
  resource: unknown;
  rawBody: Buffer;
}

export interface ApplyResult {
  outcome: NotificationOutcome | 'DUPLICATE';
  out_contract_code?: string;
  /** True when WeChat Pay told us of a contract we had no record of. */
  created: boolean;
}

/** What this release makes of a verified notification: contract facts to apply, or why it cannot act on it. */
export type Understood = { facts: WechatPayContract } | { unhandled: string; out_contract_code?: string };

export function understand(n: Pick<OpenedNotification, 'envelope' | 'resource'>): Understood {
  if (!CONTRACT_EVENTS.has(n.envelope.event_type)) return { unhandled: 'unknown event type' };
  let facts: WechatPayContract;
  try {
    facts = parseContract(n.resource);
  } catch (error) {
    throw new NotificationRejected(`resource is not a contract: ${(error as Error).message}`, {
      cause: error,
    });
  }
  // A contract state we do not know (WeChat Pay added one) is kept too.
  if (!stateOf(facts.contract_state)) {
    return { unhandled: 'unknown contract state', out_contract_code: facts.out_contract_code };
  }
  return { facts };
}

/** How a notification's write went: stored, refused by its own condition (already there, already settled). */
export type Written = 'recorded' | 'duplicate' | 'gone';

/**
 * Applies WeChat Pay's facts with the notification that brought them, through `write` (the first record of the
 * id, or an operator's settling of a kept one): read, decide forward-only, write both at once, again on conflict.
 * Even a stale fact is written (the notification's id and outcome), so every decision writes.
 */
export function applyContractFacts(
  contracts: Pick<ContractStore, 'get'>,
  notification: Omit<NotificationRecord, 'outcome' | 'out_contract_code'>,
  facts: WechatPayContract,
  now: string,
  write: (record: NotificationRecord, next: ContractRecord | undefined) => Promise<Written | 'conflict'>,
): Promise<{ written: Written; outcome: NotificationOutcome; created: boolean }> {
  const code = facts.out_contract_code;
  return readDecideWrite<
    ContractRecord | undefined,
    ContractRecord | undefined,
    { written: Written; outcome: NotificationOutcome; created: boolean }
  >(
    {
      read: () => contracts.get(code),
      decide: (existing) => ({ write: applyFacts(existing, facts, 'CALLBACK', now) }),
      write: async (next, existing) => {
        const outcome: NotificationOutcome = next ? 'APPLIED' : 'STALE';
        const written = await write({ ...notification, out_contract_code: code, outcome }, next);
        if (written === 'conflict') return undefined;
        return { written, outcome, created: written === 'recorded' && next !== undefined && !existing };
      },
    },
    `contract ${code} kept changing while notification ${notification.id} was applied`,
  );
}

/** Applies a verified, decrypted callback exactly once: the notification id and the contract change commit together. */
export async function applyNotification(
  deps: ApplyNotificationDeps,
  n: OpenedNotification,
): Promise<ApplyResult> {
  const understood = understand(n);
  if ('unhandled' in understood) {
    const code = understood.out_contract_code;
    const kept = await keepUnhandled(deps, {
      envelope: n.envelope,
      rawBody: n.rawBody,
      reason: understood.unhandled,
      ...(code ? { out_contract_code: code } : {}),
    });
    return {
      outcome: kept === 'duplicate' ? 'DUPLICATE' : 'UNHANDLED',
      ...(code ? { out_contract_code: code } : {}),
      created: false,
    };
  }
  const now = deps.clock();
  const base = {
    id: n.envelope.id,
    event_type: n.envelope.event_type,
    create_time: n.envelope.create_time,
    received_at: new Date(now).toISOString(),
  };
  const result = await applyContractFacts(
    deps.contracts,
    { ...base, expires_at_epoch: Math.floor(now / 1000) + DEDUPE_SECONDS },
    understood.facts,
    base.received_at,
    (record, next) => deps.notifications.record(record, next),
  );
  return {
    outcome: result.written === 'recorded' ? result.outcome : 'DUPLICATE',
    out_contract_code: understood.facts.out_contract_code,
    created: result.created,
  };
}
