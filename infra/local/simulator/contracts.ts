import { chinaTime, randomAlnum, randomDigits } from './crypto';
import { invalidRequest } from './errors';
import type { SimulatedContract } from './types';
import type { PresignInput } from './validate';

/** presign_token lifetime: WeChat Pay's signing page refuses a token after 10 minutes. */
export const TOKEN_TTL_MS = 10 * 60_000;

interface ContractRecord extends SimulatedContract {
  tokenExpiresMs: number;
}

export type TokenLookup =
  | { status: 'unknown' }
  | { status: 'expired' | 'used' | 'open'; contract: SimulatedContract };

/** Every out_contract_code ever presigned, keyed by code and by token. Codes are never released. */
export class ContractStore {
  private readonly byCode = new Map<string, ContractRecord>();
  private readonly codeByToken = new Map<string, string>();
  private readonly codeByContractId = new Map<string, string>();

  presign(input: PresignInput, channel: 'H5' | 'APP', nowMs: number): SimulatedContract {
    const existing = this.byCode.get(input.out_contract_code);
    if (existing) {
      throw invalidRequest(
        `协议号已存在: out_contract_code ${input.out_contract_code} 已发起过签约(状态 ${existing.state})，不能重复使用`,
      );
    }
    const { real_identity_verified, ...fields } = input;
    const token = randomAlnum(32);
    const record: ContractRecord = {
      ...fields,
      channel,
      state: 'PRESIGNED',
      real_identity_verified,
      presign_token: token,
      presigned_time: chinaTime(nowMs),
      token_expires_at: chinaTime(nowMs + TOKEN_TTL_MS),
      tokenExpiresMs: nowMs + TOKEN_TTL_MS,
    };
    this.byCode.set(record.out_contract_code, record);
    this.codeByToken.set(token, record.out_contract_code);
    return record;
  }

  get(code: string): SimulatedContract | undefined {
    return this.byCode.get(code);
  }

  /** Bookings and deductions name the contract by WeChat Pay's contract_id. */
  byContractId(contractId: string): SimulatedContract | undefined {
    const code = this.codeByContractId.get(contractId);
    return code === undefined ? undefined : this.byCode.get(code);
  }

  lookupToken(token: string, nowMs: number): TokenLookup {
    const code = this.codeByToken.get(token);
    const record = code === undefined ? undefined : this.byCode.get(code);
    if (!record) return { status: 'unknown' };
    if (record.state !== 'PRESIGNED') return { status: 'used', contract: record };
    if (nowMs >= record.tokenExpiresMs) return { status: 'expired', contract: record };
    return { status: 'open', contract: record };
  }

  /** The user agreed: the contract takes effect with WeChat Pay's ids. */
  sign(contract: SimulatedContract, nowMs: number): void {
    const ymd = chinaTime(nowMs).slice(0, 10).replaceAll('-', '');
    Object.assign(contract, {
      state: 'EFFECTIVE',
      contract_id: `${ymd}${randomDigits(20)}`,
      openid: `o${randomAlnum(27)}`,
      contract_signed_time: chinaTime(nowMs),
    });
    this.codeByContractId.set(contract.contract_id as string, contract.out_contract_code);
  }

  decline(contract: SimulatedContract): void {
    contract.state = 'DECLINED';
  }

  terminate(contract: SimulatedContract, remark: string, nowMs: number): void {
    Object.assign(contract, {
      state: 'TERMINATED',
      contract_terminated_time: chinaTime(nowMs),
      contract_terminated_mode: 'TERMINATION_MODE_BY_MERCHANT',
      contract_termination_remark: remark,
    });
  }

  all(): SimulatedContract[] {
    return [...this.byCode.values()].map(({ tokenExpiresMs: _, ...c }) => structuredClone(c));
  }
}

const STATE: Record<string, string> = {
  EFFECTIVE: 'CONTRACT_STATE_EFFECTIVE',
  TERMINATED: 'CONTRACT_STATE_TERMINATED',
};

export function withOptional(base: Record<string, unknown>, optional: Record<string, unknown>) {
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) base[k] = v;
  return base;
}

/** The query/terminate answer: `repayment_amount_limit` is an integer here. */
export function queryView(c: SimulatedContract): Record<string, unknown> {
  return withOptional(
    {
      contract_id: c.contract_id,
      plan_id: c.plan_id,
      out_contract_code: c.out_contract_code,
      display_name: c.display_name,
      contract_state: STATE[c.state],
      repayment_amount_limit: Number(c.repayment_amount_limit),
    },
    {
      contract_signed_time: c.contract_signed_time,
      contract_terminated_time: c.contract_terminated_time,
      contract_terminated_mode: c.contract_terminated_mode,
      contract_termination_remark: c.contract_termination_remark,
      repayment_day: c.repayment_day,
      openid: c.openid,
      appid: c.appid,
    },
  );
}

/**
 * The SIGN_CONTRACT / TERMINATE_CONTRACT resource: `plan_id` is a number when numeric,
 * `repayment_amount_limit` a string, and the mode carries its zero value until terminated.
 */
export function callbackPayload(c: SimulatedContract, spMchid: string): Record<string, unknown> {
  return withOptional(
    {
      sp_mchid: spMchid,
      contract_id: c.contract_id,
      plan_id: /^\d{1,15}$/.test(c.plan_id) ? Number(c.plan_id) : c.plan_id,
      out_contract_code: c.out_contract_code,
      display_name: c.display_name,
      contract_state: STATE[c.state],
      contract_signed_time: c.contract_signed_time,
      contract_terminated_mode: c.contract_terminated_mode ?? 'TERMINATION_MODE_INVALID',
      repayment_amount_limit: c.repayment_amount_limit,
      appid: c.appid,
      openid: c.openid,
    },
    {
      contract_terminated_time: c.contract_terminated_time,
      contract_termination_remark: c.contract_termination_remark,
      repayment_day: c.repayment_day,
    },
  );
}
