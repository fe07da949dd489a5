import { isObject, type JsonObject } from './json';

const CONTRACTS = '/v3/credit-repayment/partner/contracts';

export const H5_PRESIGN_PATH = `${CONTRACTS}/h5-presign`;
export const APP_PRESIGN_PATH = `${CONTRACTS}/app-presign`;
export const TERMINATE_PATH = `${CONTRACTS}/terminate`;

export const contractPath = (outContractCode: string): string =>
  `${CONTRACTS}/${encodeURIComponent(outContractCode)}`;

/**
 * A contract as the query API, the terminate API and the contract callbacks describe it (docs/protocol.md,
 * "Contract endpoints" and "Callbacks"). The sources disagree on number vs string (plan_id,
 * repayment_amount_limit) and on a field name, so all are normalised here.
 */
export interface WechatPayContract {
  out_contract_code: string;
  contract_state: string;
  contract_id?: string;
  plan_id?: string;
  display_name?: string;
  contract_signed_time?: string;
  contract_terminated_time?: string;
  /** Read from `contract_terminated_mode` or its pre-2026 name `contract_termination_mode`. */
  contract_terminated_mode?: string;
  contract_termination_remark?: string;
  repayment_day?: number;
  /** Fen, as a decimal string. */
  repayment_amount_limit?: string;
  appid?: string;
  openid?: string;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function integer(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
}

function required(json: JsonObject, field: string, what: string): string {
  const value = text(json[field]);
  if (!value) throw new Error(`${what} is missing ${field}`);
  return value;
}

export function parseContract(json: unknown): WechatPayContract {
  if (!isObject(json)) throw new Error('contract is not a JSON object');
  const contract: WechatPayContract = {
    out_contract_code: required(json, 'out_contract_code', 'contract'),
    contract_state: required(json, 'contract_state', 'contract'),
    contract_id: text(json.contract_id),
    plan_id: text(json.plan_id),
    display_name: text(json.display_name),
    contract_signed_time: text(json.contract_signed_time),
    contract_terminated_time: text(json.contract_terminated_time),
    contract_terminated_mode: text(json.contract_terminated_mode) ?? text(json.contract_termination_mode),
    contract_termination_remark: text(json.contract_termination_remark),
    repayment_day: integer(json.repayment_day),
    repayment_amount_limit: text(json.repayment_amount_limit),
    appid: text(json.appid),
    openid: text(json.openid),
  };
  // Absent fields stay absent rather than present-and-undefined, so results compare and serialise cleanly.
  for (const key of Object.keys(contract) as (keyof WechatPayContract)[]) {
    if (contract[key] === undefined) delete contract[key];
  }
  return contract;
}

/** The terminate response is documented wrapped in `contract_info`, may be flat, and may be empty. */
export function parseTerminateResponse(json: unknown): WechatPayContract | undefined {
  if (json === undefined || json === null || json === '') return undefined;
  if (!isObject(json)) throw new Error('terminate response is not a JSON object');
  if ('contract_info' in json) {
    return json.contract_info === null ? undefined : parseContract(json.contract_info);
  }
  return Object.keys(json).length === 0 ? undefined : parseContract(json);
}

export function parseH5PresignResponse(json: unknown): { redirect_url: string } {
  if (!isObject(json)) throw new Error('h5-presign response is not a JSON object');
  return { redirect_url: required(json, 'redirect_url', 'h5-presign response') };
}

export function parseAppPresignResponse(json: unknown): { presign_token: string; redirect_service?: string } {
  if (!isObject(json)) throw new Error('app-presign response is not a JSON object');
  const presign_token = required(json, 'presign_token', 'app-presign response');
  const redirect_service = text(json.redirect_service);
  return redirect_service ? { presign_token, redirect_service } : { presign_token };
}
