import type { SimContext } from './context';
import type { FaultAction } from './faults';

/**
 * WeChat Pay limits each merchant's calls per API (429 RATELIMIT_EXCEEDED, "请求未受理": the call did nothing).
 * Quotas are set by /v3 path prefix, `{"/v3/credit-repayment/partner/deduct-orders": 20}` (null lifts one); a
 * request is counted against the longest prefix it matches.
 */
export function setQuotas(ctx: SimContext, input: Record<string, unknown>): void {
  const bad = Object.keys(input).find((prefix) => !prefix.startsWith('/v3/'));
  if (bad !== undefined) throw new Error(`quota path ${bad} must start with /v3/`);
  ctx.quotas.setAll(input);
}

/** The 429 a request over its quota gets, or undefined when it may proceed. */
export function throttled(ctx: SimContext, path: string): FaultAction | undefined {
  const prefix = Object.keys(ctx.quotas.snapshot().quotas)
    .filter((p) => path.startsWith(p))
    .sort((a, b) => b.length - a.length)[0];
  if (prefix === undefined || ctx.quotas.take(prefix)) return undefined;
  return {
    kind: 'status',
    status: 429,
    body: { code: 'RATELIMIT_EXCEEDED', message: '请求未受理，请降低频率后重试' },
  };
}
