import type { Reply, SimContext } from './context';
import { isOpen } from './deductions';
import { sandboxError } from './errors';
import { collectOrder } from './repayment-api';

/* The /sandbox controls of plans, bookings, deduct orders and wallets (see README.md). */

/** The openid of `{"openid"}`, or of the contract named by `{"out_contract_code"}` (our API never shows openids). */
function walletOwner(ctx: SimContext, input: Record<string, unknown>): string | Reply {
  if (typeof input.openid === 'string' && input.openid !== '') return input.openid;
  const code = input.out_contract_code;
  const openid = typeof code === 'string' ? ctx.store.get(code)?.openid : undefined;
  return openid ?? sandboxError('give openid, or the out_contract_code of a signed contract', 404);
}

export async function handleRepaymentSandbox(
  ctx: SimContext,
  route: string,
  input: Record<string, unknown>,
): Promise<Reply | undefined> {
  switch (route) {
    case 'GET /sandbox/plans':
      return { status: 200, json: ctx.plans.all() };
    case 'POST /sandbox/plans':
      try {
        return { status: 200, json: ctx.plans.set(input) };
      } catch (err) {
        return sandboxError(`invalid plan template: ${(err as Error).message}`);
      }
    case 'GET /sandbox/schedule-records':
      return { status: 200, json: ctx.bookings.all() };
    case 'GET /sandbox/deduct-orders':
      return { status: 200, json: ctx.deductions.all() };
    case 'GET /sandbox/wallets':
      return { status: 200, json: ctx.wallets.all() };
    case 'POST /sandbox/wallets': {
      const openid = walletOwner(ctx, input);
      if (typeof openid !== 'string') return openid;
      const { openid: _, out_contract_code: __, ...change } = input;
      try {
        return { status: 200, json: ctx.wallets.set(openid, change) };
      } catch (err) {
        return sandboxError(`invalid wallet: ${(err as Error).message}`);
      }
    }
    case 'POST /sandbox/deduct-orders/settle': {
      const order =
        typeof input.out_trade_no === 'string' ? ctx.deductions.get(input.out_trade_no) : undefined;
      if (!order) return sandboxError(`no deduct order with out_trade_no ${String(input.out_trade_no)}`, 404);
      if (!isOpen(order))
        return sandboxError(`deduct order ${order.out_trade_no} is already ${order.order_state}`, 409);
      await collectOrder(ctx, order, true);
      return { status: 200, json: ctx.deductions.get(order.out_trade_no) };
    }
    default:
      return undefined;
  }
}
