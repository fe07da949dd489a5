import { ContractCodeUsed, PresignInProgress } from '../errors';
import type { ContractRecord } from './model';
import type { ClaimResult } from './ports';

/**
 * What a presign attempt may do with its `out_contract_code` once its claim (a create-if-absent) answered: every
 * rule that tells "this attempt's own claim", "my own earlier request" and "someone else's code" apart.
 */

/** What the attempt claimed with: its random token and the request hashes that count as the same request. */
export interface Attempt {
  token: string;
  /** The hash under the current key first; during a key rotation, the one under the previous key too. */
  hashes: readonly string[];
  /** Epoch ms when the attempt started. */
  now: number;
  /** How long a PRESIGNING claim belongs to the attempt that wrote it (see `takeover`). */
  leaseMs: number;
}

export type ClaimDecision =
  /** The code is this attempt's: claimed now, or an SDK retry of the claim met the item it had written. */
  | { kind: 'claimed'; current: ContractRecord }
  /** An identical earlier request pre-signed the code and its token has not lapsed: answer its result. */
  | { kind: 'replay'; existing: ContractRecord }
  /**
   * An identical earlier request holds the claim but cannot finish it: WeChat Pay never processed it (`resume`),
   * or its owner outlived the lease and so has died (`takeover`; it may have reached WeChat Pay first).
   */
  | { kind: 'resume' | 'takeover'; existing: ContractRecord }
  | { kind: 'conflict'; error: ContractCodeUsed | PresignInProgress };

export function decideClaim(claim: ClaimResult, record: ContractRecord, attempt: Attempt): ClaimDecision {
  if (claim.claimed) return { kind: 'claimed', current: record };
  const { existing } = claim;
  // Only this attempt knows its token: the item is the one its own claim wrote, whatever the SDK retried.
  if (existing.claim_token === attempt.token) return { kind: 'claimed', current: existing };
  const same = existing.request_hash !== undefined && attempt.hashes.includes(existing.request_hash);
  if (same && existing.state === 'PRESIGNED' && !lapsed(existing, attempt.now)) {
    return { kind: 'replay', existing };
  }
  if (same && existing.state === 'PRESIGNING') {
    if (existing.local_failure) return { kind: 'resume', existing };
    if (Date.parse(existing.updated_at) + attempt.leaseMs <= attempt.now)
      return { kind: 'takeover', existing };
    return { kind: 'conflict', error: new PresignInProgress(existing.out_contract_code) };
  }
  return { kind: 'conflict', error: new ContractCodeUsed(existing.out_contract_code, existing.state) };
}

/** The conflict to answer when a resume or takeover lost its race: someone else moved the record first. */
export function lostRace(existing: ContractRecord): PresignInProgress {
  return new PresignInProgress(existing.out_contract_code);
}

// Never trust TTL or a stale state for correctness: compare times here.
function lapsed(existing: ContractRecord, now: number): boolean {
  return !existing.expires_at || Date.parse(existing.expires_at) <= now;
}

/**
 * Whether `stored` is exactly what this attempt's write of `changes` over version `version` produced: a
 * conditional write that failed because an SDK retry met it. Nobody else writes the attempt's token together
 * with its `updated_at` and state at the next version.
 */
export function isOwnWrite(
  stored: ContractRecord | undefined,
  version: number,
  changes: Pick<ContractRecord, 'state' | 'updated_at'>,
  token: string,
): stored is ContractRecord {
  return (
    stored !== undefined &&
    stored.claim_token === token &&
    stored.version === version + 1 &&
    stored.state === changes.state &&
    stored.updated_at === changes.updated_at
  );
}
