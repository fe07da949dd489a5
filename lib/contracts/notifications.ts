import { NotificationRejected } from '../errors';
import { parseContract } from '../wechatpay/credit-repayment';
import type { NotificationEnvelope } from '../wechatpay/notification';
import { readDecideWrite } from './conditional-write';
import { applyFacts, stateOf } from './lifecycle';
import type { ContractRecord } from './model';
import type { Clock, ContractStore, NotificationOutcome, NotificationStore } from './ports';

/** WeChat Pay retries for about an hour; a week of memory is ample to recognise its duplicates. */
const DEDUPE_SECONDS = 7 * 24 * 3600;

const CONTRACT_EVENTS = new Set(['CREDIT_REPAYMENT.SIGN_CONTRACT', 'CREDIT_REPAYMENT.TERMINATE_CONTRACT']);

export interface ApplyNotificationDeps {
  contracts: Pick<ContractStore, 'get'>;
  notifications: NotificationStore;
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

/** Applies a verified, decrypted callback exactly once: the notification id and the contract change commit together. */
export async function applyNotification(
  deps: ApplyNotificationDeps,
  n: OpenedNotification,
): Promise<ApplyResult> {
  const now = deps.clock();
  const base = {
    id: n.envelope.id,
    event_type: n.envelope.event_type,
    create_time: n.envelope.create_time,
    received_at: new Date(now).toISOString(),
    expires_at_epoch: Math.floor(now / 1000) + DEDUPE_SECONDS,
  };
  // What we do not act on yet is kept raw (its resource still encrypted) and acknowledged, never lost.
  const storeRaw = async (code?: string): Promise<ApplyResult> => {
    const stored = await deps.notifications.record({
      ...base,
      ...(code ? { out_contract_code: code } : {}),
      outcome: 'STORED_RAW',
      raw_body: n.rawBody.toString('utf8'),
    });
    return {
      outcome: stored === 'duplicate' ? 'DUPLICATE' : 'STORED_RAW',
      ...(code ? { out_contract_code: code } : {}),
      created: false,
    };
  };
  if (!CONTRACT_EVENTS.has(n.envelope.event_type)) return storeRaw();
  let facts: ReturnType<typeof parseContract>;
  try {
    facts = parseContract(n.resource);
  } catch (error) {
    throw new NotificationRejected(`resource is not a contract: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const code = facts.out_contract_code;
  // A contract state we do not know (WeChat Pay added one) is kept raw too.
  if (!stateOf(facts.contract_state)) return storeRaw(code);
  // Even a stale notification is written (its id, so a redelivery is a duplicate), so every decision writes.
  return readDecideWrite<ContractRecord | undefined, ContractRecord | undefined, ApplyResult>(
    {
      read: () => deps.contracts.get(code),
      decide: (existing) => ({ write: applyFacts(existing, facts, 'CALLBACK', base.received_at) }),
      write: async (next, existing) => {
        const outcome: NotificationOutcome = next ? 'APPLIED' : 'STALE';
        const stored = await deps.notifications.record({ ...base, out_contract_code: code, outcome }, next);
        if (stored === 'conflict') return undefined;
        if (stored === 'duplicate') return { outcome: 'DUPLICATE', out_contract_code: code, created: false };
        return { outcome, out_contract_code: code, created: next !== undefined && !existing };
      },
    },
    `contract ${code} kept changing while notification ${base.id} was applied`,
  );
}
