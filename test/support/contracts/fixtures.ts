import { randomBytes } from 'node:crypto';
import { withCheckCharacter } from '../../../infra/local/demo/sample';
import type { ContractRecord } from '../../../lib/contracts/model';

/** A resident ID with a correct GB 11643 check character, from 17 leading digits (independent of lib/). */
export const residentId = withCheckCharacter;

export const PERSON = { name: '张三丰', id: residentId('11010519491231002'), display: '**丰' };

export function uniqueCode(prefix = 'T'): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(6).toString('hex')}`.slice(0, 64);
}

/** A valid body for our POST /contracts/h5-presign (plaintext identity; we encrypt). */
export function h5Body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    appid: 'wxd678efh567hg6787',
    plan_id: '123',
    out_contract_code: uniqueCode(),
    display_name: PERSON.display,
    repayment_day: 1,
    repayment_amount_limit: '10000',
    sub_mchid: '1000000109',
    real_identity: {
      identity_type: 'REAL_IDENTITY_TYPE_ID_CARD',
      identity_id: PERSON.id,
      real_name: PERSON.name,
    },
    ...overrides,
  };
}

/** `h5Body()` whose `real_identity` fields (PERSON's) are overridden by `over`. */
export function withIdentity(over: Record<string, unknown>): Record<string, unknown> {
  return h5Body({
    real_identity: {
      identity_type: 'REAL_IDENTITY_TYPE_ID_CARD',
      identity_id: PERSON.id,
      real_name: PERSON.name,
      ...over,
    },
  });
}

/** The fields every stored contract record of a presign carries, for unit tests that build records by hand. */
export const PRESIGNED_BY_US = {
  kind: 'H5',
  origin: 'PRESIGN',
  request_hash: 'h',
  appid: 'wxd678efh567hg6787',
  plan_id: '123',
  display_name: PERSON.display,
  repayment_amount_limit: '10000',
} as const satisfies Partial<ContractRecord>;
