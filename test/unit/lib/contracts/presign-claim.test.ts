import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContractRecord } from '../../../../lib/contracts/model';
import { type Attempt, decideClaim, isOwnWrite } from '../../../../lib/contracts/presign-claim';
import { ContractCodeUsed, PresignInProgress } from '../../../../lib/errors';
import { PRESIGNED_BY_US } from '../../../support/contracts/fixtures';

const T0 = Date.parse('2026-11-27T04:00:00Z');
const LEASE_MS = 39_000;
const at = (ms: number) => new Date(ms).toISOString();

const record = (over: Partial<ContractRecord> = {}): ContractRecord => ({
  ...PRESIGNED_BY_US,
  out_contract_code: 'C1',
  state: 'PRESIGNING',
  request_hash: 'hash-now',
  claim_token: 'theirs',
  created_at: at(T0),
  updated_at: at(T0),
  version: 1,
  ...over,
});
const attempt = (over: Partial<Attempt> = {}): Attempt => ({
  token: 'mine',
  hashes: ['hash-now', 'hash-before'],
  now: T0 + 1000,
  leaseMs: LEASE_MS,
  ...over,
});
const mine = record({ claim_token: 'mine' });
const decide = (existing: ContractRecord, over: Partial<Attempt> = {}) =>
  decideClaim({ claimed: false, existing }, mine, attempt(over));

describe('what a presign attempt may do with its code once its claim answered', () => {
  it('a claim that landed is the attempt’s own', () => {
    assert.deepEqual(decideClaim({ claimed: true }, mine, attempt()), { kind: 'claimed', current: mine });
  });

  it('a conditional failure on an item carrying the attempt’s own token is its own claim, met by an SDK retry', () => {
    const stored = record({ claim_token: 'mine' });
    assert.deepEqual(decide(stored), { kind: 'claimed', current: stored });
  });

  it('the identical request (under the current or the previous hash key) replays an open PRESIGNED code', () => {
    const open = record({ state: 'PRESIGNED', expires_at: at(T0 + 60_000) });
    assert.equal(decide(open).kind, 'replay');
    assert.equal(decide({ ...open, request_hash: 'hash-before' }).kind, 'replay');
  });

  it('a lapsed token is a conflict, never a stale link', () => {
    const lapsed = record({ state: 'PRESIGNED', expires_at: at(T0 + 1000) });
    const decision = decide(lapsed);
    assert.equal(decision.kind, 'conflict');
    assert.ok(decision.kind === 'conflict' && decision.error instanceof ContractCodeUsed);
  });

  it('the identical request resumes a claim WeChat Pay never processed', () => {
    assert.equal(decide(record({ local_failure: true })).kind, 'resume');
  });

  it('the identical request waits while the claim’s owner may be alive, then takes the claim over', () => {
    const held = decide(record(), { now: T0 + LEASE_MS - 1 });
    assert.ok(held.kind === 'conflict' && held.error instanceof PresignInProgress);
    assert.equal(decide(record(), { now: T0 + LEASE_MS }).kind, 'takeover');
  });

  it('another request never replays, resumes or takes over: CONTRACT_CODE_USED with the state', () => {
    for (const existing of [
      record({ request_hash: 'other', local_failure: true }),
      record({ request_hash: 'other' }),
      record({ request_hash: 'other', state: 'PRESIGNED', expires_at: at(T0 + 60_000) }),
      record({ state: 'PRESIGN_UNKNOWN' }),
    ]) {
      const decision = decide(existing, { now: T0 + LEASE_MS * 2 });
      assert.ok(decision.kind === 'conflict' && decision.error instanceof ContractCodeUsed, existing.state);
      assert.equal(decision.error.state, existing.state);
    }
  });
});

describe('whether a failed conditional write met the attempt’s own write', () => {
  const changes = { state: 'PRESIGNED' as const, updated_at: at(T0 + 2000) };
  const written = record({ claim_token: 'mine', version: 2, ...changes });

  it('yes: the attempt’s token, the next version, the state and time it wrote', () => {
    assert.equal(isOwnWrite(written, 1, changes, 'mine'), true);
  });

  it('no: another token, another version, another state or time, or no item', () => {
    assert.equal(isOwnWrite({ ...written, claim_token: 'theirs' }, 1, changes, 'mine'), false);
    assert.equal(isOwnWrite({ ...written, version: 3 }, 1, changes, 'mine'), false);
    assert.equal(isOwnWrite({ ...written, state: 'SIGNED' }, 1, changes, 'mine'), false);
    assert.equal(isOwnWrite({ ...written, updated_at: at(T0 + 3000) }, 1, changes, 'mine'), false);
    assert.equal(isOwnWrite(undefined, 1, changes, 'mine'), false);
  });
});
