/**
 * When reconcile looks at a contract (docs/architecture.md, "Reconcile"): its queue is ordered by `next_check_at`,
 * which every write sets from the record's state and which moves back after each look that settled nothing, so
 * a record reconcile cannot settle never holds the front of the queue.
 */
import { EXPIRY_GRACE_MS, lapsesAt } from './lifecycle';
import type { ContractRecord } from './model';

export interface RecheckPolicy {
  /** How often a SIGNED contract is asked about again, so that a lost TERMINATE_CONTRACT is learned. */
  signedIntervalMs: number;
}

/** The policy without configuration (RECONCILE_SIGNED_INTERVAL_S's default: a day). */
export const DEFAULT_RECHECK: RecheckPolicy = { signedIntervalMs: 24 * 3600_000 };

/**
 * The one late look at an EXPIRED contract, for a signing WeChat Pay's query showed late. The user cannot sign
 * after the token lapsed, so an hour covers any lag of WeChat Pay's own records; after it, nothing can change.
 */
export const EXPIRED_RECHECK_MS = 3600_000;

/** After a look that failed: 5 minutes, doubling, at most 6 hours (and never later than a SIGNED cycle). */
const RETRY_FIRST_MS = 5 * 60_000;
const RETRY_MAX_MS = 6 * 3600_000;

type Written = Pick<ContractRecord, 'state' | 'updated_at' | 'expires_at'>;

/**
 * When reconcile should first look at a record as just written (epoch ms), or `undefined`: never, because no
 * answer of WeChat Pay's could move it (TERMINATED is final; PRESIGN_FAILED was refused and only a callback
 * could still show otherwise).
 */
export function firstCheckAt(record: Written, policy: RecheckPolicy): number | undefined {
  switch (record.state) {
    case 'PRESIGNING':
    case 'PRESIGN_UNKNOWN':
    case 'PRESIGNED':
      // Not before the token lapsed plus the grace: until then the user may sign and the callback may come.
      return lapsesAt(record) + EXPIRY_GRACE_MS;
    case 'SIGNED':
      return Date.parse(record.updated_at) + policy.signedIntervalMs;
    case 'EXPIRED':
      return Date.parse(record.updated_at) + EXPIRED_RECHECK_MS;
    default:
      return undefined;
  }
}

/** Where a record goes in the queue after a look at `now` that did not change it. */
export interface Requeue {
  /** Epoch ms of the next look; `undefined`: out of the queue. */
  at?: number;
  /** Looks in a row that failed; the backoff grows with them. */
  attempts: number;
}

/**
 * After a look that settled nothing. `unchanged`: WeChat Pay's answer left the record as it was, so a SIGNED
 * contract waits a full cycle, an EXPIRED one has had its late look, and an open presign (not lapsed by our
 * reckoning after all) waits like a failure. `failed`: no usable answer; back off, doubling per failure.
 */
export function requeue(
  record: Pick<ContractRecord, 'state' | 'check_attempts'>,
  outcome: 'unchanged' | 'failed',
  now: number,
  policy: RecheckPolicy,
): Requeue {
  if (outcome === 'unchanged') {
    if (record.state === 'SIGNED') return { at: now + policy.signedIntervalMs, attempts: 0 };
    if (record.state === 'EXPIRED' || record.state === 'TERMINATED' || record.state === 'PRESIGN_FAILED') {
      return { attempts: 0 };
    }
  }
  const attempts = (record.check_attempts ?? 0) + 1;
  const backoff = Math.min(RETRY_FIRST_MS * 2 ** (attempts - 1), RETRY_MAX_MS, policy.signedIntervalMs);
  return { at: now + backoff, attempts };
}
