import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANSWER_MS, type Budget, RECORD_MS, UNBOUNDED } from '../../../../lib/contracts/budget';
import { type SendResult, sendPresign } from '../../../../lib/contracts/presign-send';
import { DependencyUnavailable, WechatPayRejected, WechatPayUnavailable } from '../../../../lib/errors';
import type { SendOptions, SignedRequest, WechatPayResponse } from '../../../../lib/wechatpay/client';
import { gatewayDouble, jsonResponse } from '../../../support/contracts/gateway';

const T0 = Date.parse('2026-11-27T04:00:00Z');
const FIRST: SignedRequest = {
  request: { method: 'POST', path: '/v3/credit-repayment/partner/contracts/h5-presign', body: { a: 1 } },
  url: 'https://wx.example/v3/credit-repayment/partner/contracts/h5-presign',
  body: '{"a":1}',
  headers: { Authorization: 'first' },
};

type Answer = WechatPayResponse | Error;
const limited = () =>
  new WechatPayUnavailable('HTTP 429 RATELIMIT_EXCEEDED after 1 attempt', 'r', { status: 429 });
const systemError = () =>
  new WechatPayUnavailable('HTTP 500 SYSTEM_ERROR after 1 attempt', 'r', { status: 500 });
const used = () => new WechatPayRejected({ status: 400, code: 'INVALID_REQUEST', message: '协议号已存在' });
const ok = () => jsonResponse({ redirect_url: 'https://wx.example/sign?t=1' });
/** A verified answer with `status` and a body that `json()` reads as `read` does. */
const answer = (status: number, read: () => unknown): WechatPayResponse => ({
  status,
  requestId: 'r',
  headers: new Headers(),
  body: Buffer.alloc(0),
  json: <T>() => read() as T,
});
const accepted202 = () => answer(202, () => undefined);
const notJson = () =>
  answer(200, () => {
    throw new WechatPayRejected({
      status: 200,
      code: 'INVALID_RESPONSE',
      message: 'response body is not JSON',
    });
  });

/** Sends against WeChat Pay answering `answers` in turn; returns the result and what was sent. */
async function send(
  answers: Answer[],
  options: { inherited?: boolean; signFails?: Error; budget?: Budget } = {},
) {
  const sent: SignedRequest[] = [];
  const timeouts: (number | undefined)[] = [];
  let clock = T0;
  const wechatpay = gatewayDouble({
    async send(signed: SignedRequest, sendOptions?: SendOptions) {
      sent.push(signed);
      timeouts.push(sendOptions?.timeoutMs);
      clock += 1000;
      const answer = answers.shift();
      if (!answer) throw new Error('no more answers scripted');
      if (answer instanceof Error) throw answer;
      return answer;
    },
    async sign(request: SignedRequest['request']): Promise<SignedRequest> {
      if (options.signFails) throw options.signFails;
      return { ...FIRST, request, headers: { Authorization: `re-signed ${sent.length}` } };
    },
  });
  const result = await sendPresign(
    {
      wechatpay,
      clock: () => clock,
      inherited: options.inherited ?? false,
      budget: options.budget ?? UNBOUNDED,
    },
    'H5',
    FIRST,
  );
  return { result, sent, timeouts };
}

const outcomeOf = (result: SendResult) => result.outcome;

describe('sending a presign: what the attempts’ answers say together', () => {
  it('accepted: the answer, and sentAt from before the first attempt left', async () => {
    const { result, sent } = await send([systemError(), ok()]);
    assert.equal(result.outcome, 'accepted');
    assert.ok(result.outcome === 'accepted' && result.sentAt === T0);
    assert.deepEqual(result.outcome === 'accepted' && result.answer, {
      redirect_url: 'https://wx.example/sign?t=1',
    });
    assert.equal(sent[1]?.body, sent[0]?.body, 'the identical body');
    assert.notEqual(sent[1]?.headers.Authorization, sent[0]?.headers.Authorization, 're-signed');
  });

  it('every attempt refused unprocessed (429): unprocessed, resumable, with a Retry-After for the caller', async () => {
    const { result, sent } = await send([limited(), limited(), limited()]);
    assert.equal(result.outcome, 'unprocessed');
    assert.equal(sent.length, 3);
    assert.ok(result.outcome === 'unprocessed' && result.error instanceof WechatPayUnavailable);
    assert.equal((result.error as WechatPayUnavailable).retryAfterS, 1);
    assert.match(result.error.message, /processed none of 3 attempts.*may resume the code/);
  });

  it('a 202 is resent with the identical body; 202s and 429s alone are still unprocessed', async () => {
    const accepted = await send([accepted202(), ok()]);
    assert.equal(accepted.result.outcome, 'accepted');
    assert.equal(accepted.sent[1]?.body, accepted.sent[0]?.body);
    assert.equal(outcomeOf((await send([accepted202(), limited(), accepted202()])).result), 'unprocessed');
  });

  it('any attempt that may have been processed (5xx, timeout) makes the end unknown, never failed', async () => {
    assert.equal(outcomeOf((await send([limited(), systemError(), limited()])).result), 'unknown');
    const refusedAfter = await send([systemError(), used()]);
    assert.equal(refusedAfter.result.outcome, 'unknown', 'the refusal may be of our own first attempt');
    assert.equal(refusedAfter.sent.length, 2);
  });

  it('a refusal after unprocessed attempts only is WeChat Pay’s word: rejected', async () => {
    const { result } = await send([limited(), used()]);
    assert.equal(result.outcome, 'rejected');
  });

  it('a verified 2xx whose body is unusable: unknown at once, not resent', async () => {
    const { result, sent } = await send([notJson()]);
    assert.equal(result.outcome, 'unknown');
    assert.equal(sent.length, 1);
    assert.match(result.outcome === 'unknown' ? result.error.message : '', /200 answer was not usable/);
  });

  it('a claim inherited from an attempt that died: even the first refusal proves nothing', async () => {
    assert.equal(outcomeOf((await send([used()], { inherited: true })).result), 'unknown');
  });

  it('a retry that cannot be signed: unprocessed when nothing was, unknown otherwise', async () => {
    const kms = new DependencyUnavailable('KMS', 'Sign failed: ThrottlingException');
    const clean = await send([limited()], { signFails: kms });
    assert.equal(clean.result.outcome, 'unprocessed');
    assert.ok(clean.result.outcome === 'unprocessed' && clean.result.error === kms);
    assert.equal(outcomeOf((await send([systemError()], { signFails: kms })).result), 'unknown');
  });

  it('inside the function’s time: each attempt waits at most what is left, keeping time to record the outcome', async () => {
    const left = 4000;
    const { result, timeouts } = await send([ok()], { budget: { remainingMs: () => left } });
    assert.equal(result.outcome, 'accepted');
    assert.deepEqual(timeouts, [left - RECORD_MS - ANSWER_MS]);
  });

  it('too little time to wait for WeChat Pay: no attempt at all, and the code stays resumable', async () => {
    const { result, sent } = await send([], { budget: { remainingMs: () => RECORD_MS + ANSWER_MS + 999 } });
    assert.equal(result.outcome, 'unprocessed');
    assert.equal(sent.length, 0);
    assert.ok(result.outcome === 'unprocessed' && result.error instanceof DependencyUnavailable);
  });

  it('a Retry-After the time left cannot wait out: no early retry; the caller is told when to come back', async () => {
    const slowDown = new WechatPayUnavailable('HTTP 429', 'r', { status: 429, retryAfterS: 30 });
    const { result, sent } = await send([slowDown], { budget: { remainingMs: () => 20_000 } });
    assert.equal(sent.length, 1);
    assert.ok(result.outcome === 'unprocessed' && result.error instanceof WechatPayUnavailable);
    assert.equal(result.error.retryAfterS, 30);
  });
});
