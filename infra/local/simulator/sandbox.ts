import type { Reply, SimContext } from './context';
import { sandboxError } from './errors';
import { checkFault } from './faults';
import { sendProbe } from './notifications';
import { setQuotas } from './quota';
import { handleRepaymentSandbox } from './sandbox-repayments';
import type { PlatformMode } from './types';

/*
 * Test and demo controls under /sandbox (no authentication: the simulator only listens on loopback
 * unless told otherwise). Errors answer `{"code":"SANDBOX_ERROR","message":…}`.
 */

function parse(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  const value: unknown = JSON.parse(body.toString('utf8'));
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('body must be a JSON object');
  return value as Record<string, unknown>;
}

export async function handleSandbox(
  ctx: SimContext,
  method: string,
  path: string,
  body: Buffer,
): Promise<Reply> {
  let input: Record<string, unknown>;
  try {
    input = parse(body);
  } catch (err) {
    return sandboxError(`invalid JSON body: ${(err as Error).message}`);
  }
  const route = `${method} ${path}`;
  switch (route) {
    case 'GET /sandbox/requests':
      return { status: 200, json: ctx.requests };
    case 'GET /sandbox/callbacks':
      return { status: 200, json: ctx.callbacks.list() };
    case 'GET /sandbox/contracts':
      return { status: 200, json: ctx.store.all() };
    case 'GET /sandbox/public-key':
      return { status: 200, json: ctx.keys.wechatpayPublicKey() };
    case 'POST /sandbox/rotate':
      return { status: 200, json: ctx.keys.rotate() };
    case 'POST /sandbox/faults':
      try {
        const fault = checkFault(input);
        ctx.faults.add(fault);
        return { status: 201, json: { armed: fault } };
      } catch (err) {
        return sandboxError(`invalid fault: ${(err as Error).message}`);
      }
    case 'GET /sandbox/quota':
      return { status: 200, json: ctx.quotas.snapshot() };
    case 'POST /sandbox/quota':
      try {
        setQuotas(ctx, input);
        return { status: 200, json: ctx.quotas.snapshot() };
      } catch (err) {
        return sandboxError(`invalid quota: ${(err as Error).message}`);
      }
    case 'POST /sandbox/probe': {
      const code = input.out_contract_code;
      if (typeof code !== 'string' || !ctx.store.get(code)) {
        return sandboxError(`no presigned contract with out_contract_code ${String(code)}`, 404);
      }
      return { status: 200, json: await sendProbe(ctx, code) };
    }
    case 'POST /sandbox/clock': {
      const offset = input.offset_ms;
      if (typeof offset !== 'number' || !Number.isFinite(offset))
        return sandboxError('offset_ms must be a number');
      ctx.setClockOffset(offset);
      return {
        status: 200,
        json: { offset_ms: offset, business_time: new Date(ctx.businessNow()).toISOString() },
      };
    }
    case 'POST /sandbox/drop-callbacks': {
      const count = input.count;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
        return sandboxError('count must be a non-negative integer');
      }
      ctx.callbacks.dropNext(count);
      return { status: 200, json: { drop_next: count } };
    }
    case 'POST /sandbox/mode': {
      const mode = input.mode;
      if (mode !== 'public-key' && mode !== 'certificate')
        return sandboxError('mode must be public-key or certificate');
      ctx.keys.setMode(mode as PlatformMode);
      return { status: 200, json: { mode, serial: ctx.keys.signer().serial } };
    }
    default:
      return (
        (await handleRepaymentSandbox(ctx, route, input)) ??
        sandboxError(`unknown sandbox route ${route}`, 404)
      );
  }
}
