/* Bookings and deductions, written from the protocol as the rest of harness.ts is (never lib/wechatpay). */
import type { SimulatedContract, Simulator } from '../../../../../infra/local/simulator';
import { call, type Merchant, presign, type RawResponse, raw } from './harness';

const PARTNER = '/v3/credit-repayment/partner';
export const SCHEDULE = `${PARTNER}/schedule-records/batch-create`;
export const DEDUCT = `${PARTNER}/deduct-orders`;
export const recordPath = (id: string, contractId: string) =>
  `${PARTNER}/schedule-records/${id}?contract_id=${encodeURIComponent(contractId)}`;
export const orderPath = (outTradeNo: string) => `${DEDUCT}/${outTradeNo}`;

/** Noon in Beijing on 2026-12-01: far from midnight, so "today" cannot change during a test. */
export const TODAY = '2026-12-01';
const NOON = Date.parse(`${TODAY}T12:00:00+08:00`);
const DAY_MS = 86_400_000;

export const dayAfter = (days: number) =>
  new Date(Date.parse(`${TODAY}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);

/** Moves the simulator's business clock to noon, `days` after TODAY (signatures keep the real clock). */
export async function setDay(sim: Simulator, days = 0): Promise<void> {
  const res = await sandbox(sim, 'POST', '/sandbox/clock', { offset_ms: NOON + days * DAY_MS - Date.now() });
  if (res.status !== 200) throw new Error(`clock: ${res.status} ${res.text}`);
}

export function sandbox(sim: Simulator, method: string, path: string, body?: unknown): Promise<RawResponse> {
  const text = body === undefined ? '' : JSON.stringify(body);
  return raw(sim.url, method, path, text ? { 'Content-Type': 'application/json' } : {}, text);
}

let counter = 0;
export const newId = (prefix: string) => `${prefix}${Date.now()}${counter++}`;

/** A contract the user signed, as the simulator holds it (contract_id, openid, appid, sub_mchid). */
export async function signedContract(
  sim: Simulator,
  m: Merchant,
  notifyUrl: string,
  overrides: Record<string, unknown> = {},
): Promise<SimulatedContract> {
  const { code, token } = await presign(sim, m, notifyUrl, undefined, overrides);
  await sim.agree(token);
  const contract = sim.contracts().find((c) => c.out_contract_code === code);
  if (!contract?.contract_id) throw new Error(`contract ${code} was not signed`);
  return contract;
}

export function bookingBody(
  c: SimulatedContract,
  item: Record<string, unknown> = {},
  top: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    contract_id: c.contract_id,
    appid: c.appid,
    openid: c.openid,
    schedule_items: [
      {
        out_record_id: newId('R'),
        sub_mchid: c.sub_mchid,
        repayment_amount: '10000',
        min_repayment_amount: '1000',
        repayment_date: dayAfter(1),
        ...item,
      },
    ],
    ...top,
  };
}

export function deductBody(
  c: SimulatedContract,
  outRecordId: string,
  notifyUrl: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    contract_id: c.contract_id,
    out_trade_no: newId('T'),
    out_record_id: outRecordId,
    deduct_amount: '10000',
    notify_url: notifyUrl,
    description: '信贷还款',
    ...overrides,
  };
}

/** Books one repayment and returns its out_record_id; throws unless WeChat Pay accepted it. */
export async function book(
  sim: Simulator,
  m: Merchant,
  c: SimulatedContract,
  item: Record<string, unknown> = {},
): Promise<string> {
  const body = bookingBody(c, item);
  const res = await call(sim, m, 'POST', SCHEDULE, body);
  if (res.status !== 200) throw new Error(`booking failed: ${res.status} ${res.text}`);
  return String((body.schedule_items as Record<string, unknown>[])[0]?.out_record_id);
}

export const detail = (res: RawResponse) => (res.json.detail ?? {}) as Record<string, unknown>;
