import type { WechatPayRequest } from './client';
import { NotificationRejected } from './errors';

/*
 * The repayment half of credit-repayment: book (schedule-records/batch-create), query the booking, deduct
 * (deduct-orders), query the order, and the DEDUCTION_PAY callback resource. Amounts are integer fen carried as
 * decimal strings on the wire; the answers are documented only by the SDK docs, so parsers accept numbers too,
 * keep fields they do not know (in `extra`) and name the field they cannot use.
 */

const PARTNER = '/v3/credit-repayment/partner';

export const SCHEDULE_PATH = `${PARTNER}/schedule-records/batch-create`;
export const DEDUCT_PATH = `${PARTNER}/deduct-orders`;

/** The path and query exactly as sent and signed: `…/schedule-records/{out_record_id}?contract_id=…`. */
export const scheduleRecordPath = (outRecordId: string, contractId: string): string =>
  `${PARTNER}/schedule-records/${encodeURIComponent(outRecordId)}?contract_id=${encodeURIComponent(contractId)}`;

export const deductOrderPath = (outTradeNo: string): string =>
  `${PARTNER}/deduct-orders/${encodeURIComponent(outTradeNo)}`;

/** One booking: WeChat Pay accepts exactly one schedule item per request. */
export interface ScheduleInput {
  contract_id: string;
  appid: string;
  openid: string;
  out_record_id: string;
  sub_mchid: string;
  sub_appid?: string;
  /** Fen, as a decimal string. */
  repayment_amount: string;
  min_repayment_amount?: string;
  /** `yyyy-MM-dd`, a Beijing date. */
  repayment_date: string;
}

export interface DeductInput {
  contract_id: string;
  out_trade_no: string;
  out_record_id: string;
  /** Fen, as a decimal string (an integer only in presign's `trade_info`). */
  deduct_amount: string;
  notify_url: string;
  description: string;
  attach?: string;
}

/** Keys in the documented order, absent optional fields left out (WeChat Pay refuses `null`). */
function present<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as T;
}

export function scheduleRequest(input: ScheduleInput): WechatPayRequest {
  const item = present({
    out_record_id: input.out_record_id,
    sub_mchid: input.sub_mchid,
    sub_appid: input.sub_appid,
    repayment_amount: input.repayment_amount,
    min_repayment_amount: input.min_repayment_amount,
    repayment_date: input.repayment_date,
  });
  return {
    method: 'POST',
    path: SCHEDULE_PATH,
    body: {
      contract_id: input.contract_id,
      appid: input.appid,
      openid: input.openid,
      schedule_items: [item],
    },
  };
}

export const scheduleRecordQuery = (outRecordId: string, contractId: string): WechatPayRequest => ({
  method: 'GET',
  path: scheduleRecordPath(outRecordId, contractId),
});

export function deductRequest(input: DeductInput): WechatPayRequest {
  return {
    method: 'POST',
    path: DEDUCT_PATH,
    body: present({
      contract_id: input.contract_id,
      out_trade_no: input.out_trade_no,
      out_record_id: input.out_record_id,
      deduct_amount: input.deduct_amount,
      notify_url: input.notify_url,
      description: input.description,
      attach: input.attach,
    }),
  };
}

export const deductOrderQuery = (outTradeNo: string): WechatPayRequest => ({
  method: 'GET',
  path: deductOrderPath(outTradeNo),
});

/** A booking as WeChat Pay echoes it (batch-create answer element, schedule-record query). No state field. */
export interface ScheduleRecord {
  out_record_id: string;
  repayment_amount?: string;
  min_repayment_amount?: string;
  repayment_date?: string;
  contract_id?: string;
  appid?: string;
  sub_appid?: string;
  openid?: string;
  /** Fields this parser does not know, as received. */
  extra?: Record<string, unknown>;
}

const ORDER_STATES = [
  'DEDUCT_ORDER_STATE_PENDING',
  'DEDUCT_ORDER_STATE_NOT_PAY',
  'DEDUCT_ORDER_STATE_PAY_SUCCESS',
  'DEDUCT_ORDER_STATE_PAY_FAIL',
] as const;

export type DeductOrderState = (typeof ORDER_STATES)[number];

/** A state WeChat Pay adds later is kept as a string by the parsers; this tells the documented four apart. */
export const isDeductOrderState = (value: string): value is DeductOrderState =>
  (ORDER_STATES as readonly string[]).includes(value);

/** A deduct order (deduct-orders answer and query) and, with the merchant ids, the DEDUCTION_PAY resource. */
export interface DeductOrder {
  out_trade_no: string;
  out_record_id: string;
  contract_id: string;
  order_state: string;
  /** Fen, as a decimal string. */
  deduct_amount: string;
  /** What was actually repaid, when WeChat Pay says. */
  pay_success_amount?: string;
  transaction_id?: string;
  appid?: string;
  sub_appid?: string;
  openid?: string;
  description?: string;
  attach?: string;
  extra?: Record<string, unknown>;
}

export interface DeductionPay extends DeductOrder {
  sp_mchid?: string;
  sub_mchid?: string;
}

type Json = Record<string, unknown>;
type Kind = 'text' | 'amount';

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads the named fields of `json`; `required` ones must be present. Unknown fields go to `extra`. */
function read<T>(json: unknown, what: string, fields: Record<string, Kind>, required: readonly string[]): T {
  if (!isObject(json)) throw new Error(`${what} is not a JSON object`);
  const out: Json = {};
  const extra: Json = {};
  for (const [key, value] of Object.entries(json)) {
    const kind = fields[key];
    if (kind === undefined) extra[key] = value;
    else if (value !== undefined && value !== null)
      out[key] = kind === 'amount' ? amount(value, what, key) : text(value, what, key);
  }
  for (const key of required) {
    if (out[key] === undefined || out[key] === '') throw new Error(`${what} is missing ${key}`);
  }
  if (Object.keys(extra).length > 0) out.extra = extra;
  return out as T;
}

function text(value: unknown, what: string, key: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new Error(`${what} ${key} is not a string`);
}

/** Integer fen, as a string or a number; anything else could not be trusted as money. */
function amount(value: unknown, what: string, key: string): string {
  if (typeof value === 'string' && /^\d{1,18}$/.test(value)) return String(BigInt(value));
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  throw new Error(`${what} ${key} is not a whole number of fen: ${JSON.stringify(value)}`);
}

const RECORD: Record<string, Kind> = {
  out_record_id: 'text',
  repayment_amount: 'amount',
  min_repayment_amount: 'amount',
  repayment_date: 'text',
  contract_id: 'text',
  appid: 'text',
  sub_appid: 'text',
  openid: 'text',
};

const ORDER: Record<string, Kind> = {
  out_trade_no: 'text',
  out_record_id: 'text',
  contract_id: 'text',
  order_state: 'text',
  deduct_amount: 'amount',
  pay_success_amount: 'amount',
  transaction_id: 'text',
  appid: 'text',
  sub_appid: 'text',
  openid: 'text',
  description: 'text',
  attach: 'text',
};

const ORDER_REQUIRED = ['out_trade_no', 'out_record_id', 'contract_id', 'order_state', 'deduct_amount'];

export const parseScheduleRecord = (json: unknown): ScheduleRecord =>
  read(json, 'schedule record', RECORD, ['out_record_id']);

/** `{"schedule_records":[…]}`; an empty 2xx body still means "booked", so it gives no records. */
export function parseScheduleResponse(json: unknown): ScheduleRecord[] {
  if (json === undefined || json === null || json === '') return [];
  if (!isObject(json)) throw new Error('batch-create response is not a JSON object');
  const records = json.schedule_records;
  if (records === undefined || records === null) return [];
  if (!Array.isArray(records)) throw new Error('batch-create response schedule_records is not an array');
  return records.map((record, i) =>
    read<ScheduleRecord>(record, `batch-create response schedule_records[${i}]`, RECORD, ['out_record_id']),
  );
}

export const parseDeductOrder = (json: unknown): DeductOrder =>
  read(json, 'deduct order', ORDER, ORDER_REQUIRED);

/** The decrypted DEDUCTION_PAY resource; a resource we cannot use is a rejected notification. */
export function parseDeductionPay(resource: unknown): DeductionPay {
  try {
    return read(
      resource,
      'DEDUCTION_PAY resource',
      { ...ORDER, sp_mchid: 'text', sub_mchid: 'text' },
      ORDER_REQUIRED,
    );
  } catch (error) {
    throw new NotificationRejected((error as Error).message, { cause: error });
  }
}
