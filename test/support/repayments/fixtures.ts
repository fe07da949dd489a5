import type { ContractRecord } from '../../../lib/contracts/model';
import type { WechatPayGateway } from '../../../lib/contracts/ports';
import type { SettleDeps } from '../../../lib/repayments/settle';
import type { WechatPayRequest } from '../../../lib/wechatpay/client';
import { PRESIGNED_BY_US } from '../contracts/fixtures';
import { MemoryContractStore } from '../contracts/memory-store';
import { MemoryRepaymentStore } from './memory-store';

/** Noon in Beijing on 2026-12-01: far from midnight, so "today" is the same all test long. */
export const T0 = Date.parse('2026-12-01T12:00:00+08:00');
export const TODAY = '2026-12-01';
export const DAY_MS = 86_400_000;

export const CONTRACT: ContractRecord = {
  ...PRESIGNED_BY_US,
  out_contract_code: 'LOAN1',
  state: 'SIGNED',
  contract_id: 'CID1',
  openid: 'o-secret-openid',
  sub_mchid: '1000000109',
  repayment_amount_limit: '10000',
  created_at: '2026-11-30T04:00:00.000Z',
  updated_at: '2026-11-30T04:00:00.000Z',
  version: 2,
};

/** A valid booking body for LOAN1, due tomorrow. */
export const bookingBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  out_record_id: 'R1',
  repayment_amount: '5000',
  min_repayment_amount: '1000',
  repayment_date: '2026-12-02',
  ...overrides,
});

/** What a scripted WeChat Pay double saw: every request sent (method, path, body), in order. */
export interface Sent {
  method: string;
  path: string;
  body?: unknown;
}

/** A WeChat Pay reply to one request: a JSON answer, or a thrown error (WechatPayRejected, …). */
export type Reply = { json: unknown } | { error: Error };

/**
 * A WeChat Pay gateway double that signs anything and answers each request with `reply(request)`; `sent`
 * records what reached it.
 */
export function scriptedWechatPay(
  reply: (request: WechatPayRequest) => Reply,
): WechatPayGateway & { sent: Sent[] } {
  const sent: Sent[] = [];
  const answer = async (request: WechatPayRequest) => {
    sent.push({
      method: request.method,
      path: request.path,
      ...(request.body ? { body: request.body } : {}),
    });
    const r = reply(request);
    if ('error' in r) throw r.error;
    const text = JSON.stringify(r.json);
    return {
      status: 200,
      requestId: 'req-1',
      headers: new Headers(),
      body: Buffer.from(text),
      json: <T>() => JSON.parse(text) as T,
    };
  };
  return {
    sent,
    sign: async (request) => ({ request, url: `https://wx.example${request.path}`, body: '', headers: {} }),
    send: (signed) => answer(signed.request),
    call: (request) => answer(request),
    encrypt: () => {
      throw new Error('repayments encrypt nothing');
    },
  };
}

/** The use cases' dependencies over in-memory stores holding CONTRACT, on a clock the test moves. */
export function memoryDeps(wechatpay: WechatPayGateway, clock = { now: T0 }) {
  const contracts = new MemoryContractStore();
  contracts.items.set(CONTRACT.out_contract_code, structuredClone(CONTRACT));
  const store = new MemoryRepaymentStore();
  const deps: SettleDeps & { loanTypes: Map<string, 'CONSUMER_LOAN' | 'CASH_LOAN'> } = {
    store,
    contracts,
    wechatpay,
    clock: () => clock.now,
    notifyUrl: 'https://api.example/wechatpay/notifications',
    loanTypes: new Map(),
  };
  return { deps, store, contracts, clock };
}

/** WeChat Pay's deduct order for `request` (a deduct-orders POST or query), in `state`. */
export function orderFor(body: Record<string, unknown>, state: string, extra: Record<string, unknown> = {}) {
  return {
    out_trade_no: body.out_trade_no,
    out_record_id: body.out_record_id ?? 'R1',
    contract_id: body.contract_id ?? 'CID1',
    appid: 'wxd678efh567hg6787',
    openid: 'o-secret-openid',
    description: body.description ?? '信贷还款',
    order_state: state,
    deduct_amount: body.deduct_amount,
    ...extra,
  };
}

/** WeChat Pay's DEDUCTION_PAY resource for a success of order T1 of booking R1 (5000 fen), with `overrides`. */
export const paid = (overrides: Record<string, unknown> = {}) => ({
  sp_mchid: '1900000109',
  sub_mchid: '1000000109',
  appid: 'wxd678efh567hg6787',
  openid: 'o-secret-openid',
  order_state: 'DEDUCT_ORDER_STATE_PAY_SUCCESS',
  out_trade_no: 'T1',
  out_record_id: 'R1',
  contract_id: 'CID1',
  deduct_amount: '5000',
  pay_success_amount: '5000',
  transaction_id: '4200000000000000000000000001',
  description: '信贷还款',
  ...overrides,
});
