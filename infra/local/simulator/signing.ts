import type { Reply, SimContext } from './context';
import { notifySigned } from './notifications';
import { errorPage, resultPage, signPage } from './pages';
import type { SimulatedContract } from './types';

/** A signing-page failure: an HTTP status and what the user is told. */
export class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly titleEn: string,
    message: string,
  ) {
    super(message);
  }
}

function openContract(ctx: SimContext, token: string): SimulatedContract {
  const found = ctx.store.lookupToken(token, ctx.businessNow());
  switch (found.status) {
    case 'unknown':
      throw new PageError(
        404,
        '签约链接无效',
        'Unknown signing link',
        '找不到该预签约码 / no such presign token',
      );
    case 'expired':
      throw new PageError(
        410,
        '签约链接已过期',
        'Signing link expired',
        `预签约码已于 ${found.contract.token_expires_at} 失效(有效期10分钟)，请重新发起签约 / the presign token expired`,
      );
    case 'used':
      throw new PageError(
        409,
        '签约链接已使用',
        'Signing link already used',
        `该协议已处理(状态 ${found.contract.state}) / this contract was already handled`,
      );
    case 'open':
      return found.contract;
  }
}

/** The user agrees: the contract takes effect and SIGN_CONTRACT is sent; resolves after its first send. */
export async function agree(ctx: SimContext, token: string): Promise<SimulatedContract> {
  const c = openContract(ctx, token);
  ctx.store.sign(c, ctx.businessNow());
  ctx.log(`agree ${c.out_contract_code} -> EFFECTIVE ${c.contract_id}`);
  await notifySigned(ctx, c);
  return c;
}

/** The user declines: nothing is notified and the contract never exists for the query API. */
export function decline(ctx: SimContext, token: string): SimulatedContract {
  const c = openContract(ctx, token);
  ctx.store.decline(c);
  ctx.log(`decline ${c.out_contract_code}`);
  return c;
}

/** The demo page passes `return_url`; anything but an absolute http(s) URL is refused. */
function returnUrl(raw: string | null): string | undefined {
  if (raw === null || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PageError(400, '返回地址无效', 'Invalid return_url', 'return_url 不是合法的URL / not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PageError(
      400,
      '返回地址无效',
      'Invalid return_url',
      'return_url 只能是 http(s) 地址 / must be http(s)',
    );
  }
  return raw;
}

function pageErrorReply(err: unknown): Reply {
  if (!(err instanceof PageError)) throw err;
  return { status: err.status, html: errorPage(err.title, err.titleEn, err.message) };
}

/** `GET /sign?token=…[&return_url=…]`. */
export function showSignPage(ctx: SimContext, params: URLSearchParams): Reply {
  try {
    const back = returnUrl(params.get('return_url'));
    const token = params.get('token') ?? '';
    return { status: 200, html: signPage(openContract(ctx, token), token, back) };
  } catch (err) {
    return pageErrorReply(err);
  }
}

/** `POST /sign/agree` and `/sign/decline` (form posts from the page). */
export async function submitSignPage(
  ctx: SimContext,
  result: 'agreed' | 'declined',
  form: URLSearchParams,
): Promise<Reply> {
  try {
    const back = returnUrl(form.get('return_url'));
    const token = form.get('token') ?? '';
    const c = result === 'agreed' ? await agree(ctx, token) : decline(ctx, token);
    if (back) {
      const target = new URL(back);
      target.searchParams.set('out_contract_code', c.out_contract_code);
      target.searchParams.set('result', result);
      return { status: 303, location: target.toString() };
    }
    return { status: 200, html: resultPage(result, c) };
  } catch (err) {
    return pageErrorReply(err);
  }
}
