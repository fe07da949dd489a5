import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Formatter, Rsa } from 'wechatpay-axios-plugin';
import { SignatureInvalid, WechatPayRejected, WechatPayUnavailable } from '../../../../lib/errors';
import { WechatPayClient, type WechatPayClientOptions } from '../../../../lib/wechatpay/client';
import { PemSigner } from '../../../../lib/wechatpay/signer';
import { Verifier } from '../../../../lib/wechatpay/verifier';

const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
const MCHID = '1900000001';
const MERCHANT_SERIAL = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';
const PUB_KEY_ID = 'PUB_KEY_ID_0114232134912410000000000000';
const NOW = 1_700_000_000;

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
type Reply = (res: ServerResponse, seen: Seen) => void;

const replies: Reply[] = [];
const seen: Seen[] = [];
let server: Server;
let baseUrl: string;

/** What WeChat Pay does: sign timestamp, nonce and the exact body bytes with its key. */
function reply(
  status: number,
  body: string,
  options: { requestId?: string; signWith?: typeof platform } = {},
): Reply {
  return (res) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (options.requestId) headers['Request-ID'] = options.requestId;
    if (status >= 200 && status < 300) {
      const nonce = Formatter.nonce();
      Object.assign(headers, {
        'Wechatpay-Timestamp': String(NOW),
        'Wechatpay-Nonce': nonce,
        'Wechatpay-Serial': PUB_KEY_ID,
        'Wechatpay-Signature': Rsa.sign(
          Formatter.response(NOW, nonce, body),
          (options.signWith ?? platform).privateKey,
        ),
      });
    }
    res.writeHead(status, headers).end(body);
  };
}

const hang: Reply = () => {};
const reset: Reply = (res) => res.socket?.destroy();

function client(overrides: Partial<WechatPayClientOptions> = {}): WechatPayClient {
  return new WechatPayClient({
    baseUrl,
    credentials: { mchid: MCHID, serialNo: MERCHANT_SERIAL, signer: new PemSigner(merchant.privateKey) },
    verifier: new Verifier([[PUB_KEY_ID, platform.publicKey]], { clock: () => NOW * 1000 }),
    encryptionKey: { serial: PUB_KEY_ID, key: platform.publicKey },
    userAgent: 'client-test/1.0 (node)',
    clock: () => NOW * 1000,
    sleep: async () => {},
    ...overrides,
  });
}

/** The server side of request signing, done with wechatpay-axios-plugin. */
function authorizationOf(request: Seen): { valid: boolean; nonce: string; timestamp: string } {
  const header = String(request.headers.authorization);
  const pairs = Object.fromEntries(
    [...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
  ) as Record<string, string>;
  assert.ok(header.startsWith('WECHATPAY2-SHA256-RSA2048 '));
  assert.equal(pairs.mchid, MCHID);
  assert.equal(pairs.serial_no, MERCHANT_SERIAL);
  const message = Formatter.request(
    request.method,
    request.url,
    String(pairs.timestamp),
    String(pairs.nonce_str),
    request.body.toString(),
  );
  return {
    valid: Rsa.verify(message, String(pairs.signature), merchant.publicKey),
    nonce: String(pairs.nonce_str),
    timestamp: String(pairs.timestamp),
  };
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: String(req.method),
        url: String(req.url),
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      seen.push(request);
      (replies.shift() ?? reply(599, 'no reply queued'))(res, request);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

beforeEach(() => {
  replies.length = 0;
  seen.length = 0;
});

describe('WechatPayClient', () => {
  it('sends the signed POST with every header and exactly the signed body, and verifies the 2xx', async () => {
    replies.push(reply(200, '{"redirect_url":"https://wx.example/sign?t=1"}', { requestId: 'RID-1' }));
    const c = client();
    const signed = await c.sign({
      method: 'POST',
      path: '/v3/credit-repayment/partner/contracts/h5-presign',
      body: { plan_id: '1', name: '中文', skip: undefined },
    });
    assert.equal(signed.body, '{"plan_id":"1","name":"中文"}');
    const response = await c.send(signed);

    assert.equal(response.status, 200);
    assert.equal(response.requestId, 'RID-1');
    assert.deepEqual(response.json(), { redirect_url: 'https://wx.example/sign?t=1' });
    assert.equal(seen.length, 1);
    const [request] = seen;
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/v3/credit-repayment/partner/contracts/h5-presign');
    assert.deepEqual(request.body, Buffer.from(signed.body, 'utf8'));
    assert.equal(request.headers.accept, 'application/json');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['wechatpay-serial'], PUB_KEY_ID);
    assert.equal(request.headers['user-agent'], 'client-test/1.0 (node)');
    const auth = authorizationOf(request);
    assert.equal(auth.valid, true);
    assert.equal(auth.timestamp, String(NOW));
    assert.equal(request.headers.authorization, signed.headers.Authorization);
  });

  it('signs a GET over its query string and sends neither body nor Content-Type', async () => {
    replies.push(reply(200, '{"out_contract_code":"C 1","contract_state":"CONTRACT_STATE_EFFECTIVE"}'));
    const response = await client({ userAgent: 'test-agent/1' }).call({
      method: 'GET',
      path: '/v3/x/C%201?contract_id=abc&b=2',
    });
    assert.equal(response.status, 200);
    const [request] = seen;
    assert.ok(request);
    assert.equal(request.url, '/v3/x/C%201?contract_id=abc&b=2');
    assert.equal(request.body.length, 0);
    assert.equal(request.headers['content-type'], undefined);
    assert.equal(request.headers['user-agent'], 'test-agent/1');
    assert.equal(authorizationOf(request).valid, true);
  });

  it('verifies an empty 204 and reads it as undefined', async () => {
    replies.push(reply(204, ''));
    const response = await client().call({ method: 'POST', path: '/v3/x', body: { a: 1 } });
    assert.equal(response.status, 204);
    assert.equal(response.json(), undefined);
  });

  it('throws SignatureInvalid, with the Request-ID, for a 2xx signed by the wrong key', async () => {
    replies.push(reply(200, '{"ok":true}', { requestId: 'RID-BAD', signWith: merchant }));
    const error = await caught(client().call({ method: 'GET', path: '/v3/x' }));
    assert.ok(error instanceof SignatureInvalid, String(error));
    assert.match(
      error.message,
      /^response signature rejected: signature does not match .*\(Request-ID RID-BAD\)$/,
    );
  });

  it('throws SignatureInvalid for a 2xx without signature headers', async () => {
    replies.push((res) => res.writeHead(200, { 'Request-ID': 'RID-NOSIG' }).end('{}'));
    const error = await caught(client().call({ method: 'GET', path: '/v3/x' }));
    assert.ok(error instanceof SignatureInvalid);
    assert.match(error.message, /missing Wechatpay-Timestamp header \(Request-ID RID-NOSIG\)/);
  });

  it('throws WechatPayRejected with the parsed error body on a 400, without retrying', async () => {
    const detail = { field: '/plan_id', value: 'x', issue: 'bad', location: 'body' };
    replies.push(
      reply(400, JSON.stringify({ code: 'PARAM_ERROR', message: '参数错误', detail }), {
        requestId: 'RID-400',
      }),
    );
    const error = await caught(client().call({ method: 'POST', path: '/v3/x', body: {} }, { retry: true }));
    assert.ok(error instanceof WechatPayRejected, String(error));
    assert.deepEqual(error.wechatpay, {
      status: 400,
      code: 'PARAM_ERROR',
      message: '参数错误',
      detail,
      request_id: 'RID-400',
    });
    assert.match(error.message, /HTTP 400 PARAM_ERROR: 参数错误 \(Request-ID RID-400\)/);
    assert.equal(seen.length, 1);
  });

  it('tolerates a non-JSON error body', async () => {
    replies.push(reply(403, `<html>${'x'.repeat(300)}</html>`));
    const error = await caught(client().call({ method: 'GET', path: '/v3/x' }));
    assert.ok(error instanceof WechatPayRejected);
    assert.equal(error.wechatpay.code, 'UNKNOWN');
    assert.equal(error.wechatpay.message, `<html>${'x'.repeat(194)}`);
  });

  it('with retry, re-signs (new nonce and timestamp) and resends the identical body after a 500', async () => {
    replies.push(
      reply(500, '{"code":"SYSTEM_ERROR","message":"系统错误"}'),
      reply(200, '{"presign_token":"T"}'),
    );
    let tick = NOW;
    const sleeps: number[] = [];
    const c = client({
      clock: () => tick++ * 1000,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const response = await c.call(
      { method: 'POST', path: '/v3/x', body: { out_contract_code: 'C1' } },
      { retry: true },
    );
    assert.deepEqual(response.json(), { presign_token: 'T' });
    assert.equal(seen.length, 2);
    const [first, second] = seen;
    assert.ok(first && second);
    assert.deepEqual(second.body, first.body);
    const a = authorizationOf(first);
    const b = authorizationOf(second);
    assert.ok(a.valid && b.valid);
    assert.notEqual(a.nonce, b.nonce);
    assert.notEqual(a.timestamp, b.timestamp);
    assert.equal(sleeps.length, 1);
    assert.ok((sleeps[0] ?? -1) >= 50 && (sleeps[0] ?? 1000) <= 100, `slept ${sleeps[0]}`);
  });

  it('gives up after 3 attempts of 500 with WechatPayUnavailable carrying the last Request-ID', async () => {
    for (const id of ['R1', 'R2', 'R3'])
      replies.push(reply(500, '{"code":"SYSTEM_ERROR","message":"x"}', { requestId: id }));
    const error = await caught(client().call({ method: 'POST', path: '/v3/x', body: {} }, { retry: true }));
    assert.ok(error instanceof WechatPayUnavailable, String(error));
    assert.equal(error.message, 'HTTP 500 SYSTEM_ERROR after 3 attempts (Request-ID R3)');
    assert.equal(error.requestId, 'R3');
    assert.equal(seen.length, 3);
  });

  it('makes one attempt only without retry (the default)', async () => {
    replies.push(reply(429, '{"code":"FREQUENCY_LIMITED","message":"slow down"}'), reply(200, '{}'));
    const error = await caught(client().call({ method: 'POST', path: '/v3/x', body: {} }));
    assert.ok(error instanceof WechatPayUnavailable);
    assert.equal(error.message, 'HTTP 429 FREQUENCY_LIMITED after 1 attempt');
    assert.equal(seen.length, 1);
  });

  it('tells a 429 from a timeout: the status, and WeChat Pay’s Retry-After in seconds', async () => {
    replies.push((res) => {
      res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '3' });
      res.end('{"code":"RATELIMIT_EXCEEDED","message":"slow down"}');
    });
    const limited = await caught(client().call({ method: 'POST', path: '/v3/x', body: {} }));
    assert.ok(limited instanceof WechatPayUnavailable);
    assert.equal(limited.status, 429);
    assert.equal(limited.retryAfterS, 3);
    replies.push(hang);
    const timedOut = await caught(client({ timeoutMs: 100 }).call({ method: 'GET', path: '/v3/x' }));
    assert.ok(timedOut instanceof WechatPayUnavailable);
    assert.equal(timedOut.status, undefined);
    assert.equal(timedOut.retryAfterS, undefined);
  });

  it('waits no longer than a call’s own timeoutMs, and never longer than the configured one', async () => {
    replies.push(hang, hang);
    const short = await caught(
      client({ timeoutMs: 5000 }).call({ method: 'GET', path: '/v3/x' }, { timeoutMs: 100 }),
    );
    assert.equal((short as Error).message, 'timed out after 100 ms');
    const capped = await caught(
      client({ timeoutMs: 100 }).call({ method: 'GET', path: '/v3/x' }, { timeoutMs: 5000 }),
    );
    assert.equal((capped as Error).message, 'timed out after 100 ms');
  });

  it('within the caller’s time: each attempt waits at most what is left, and none starts with under 1 s', async () => {
    const deadline = Date.now() + 1300;
    replies.push(hang, hang, hang);
    const error = await caught(
      client({ timeoutMs: 5000 }).call(
        { method: 'GET', path: '/v3/x' },
        { retry: true, remainingMs: () => deadline - Date.now() },
      ),
    );
    // One attempt of what was left; after it, no time for another: no resend.
    assert.match((error as Error).message, /^timed out after 1[23]\d\d ms$/);
    assert.equal(seen.length, 1);

    const unsent = await caught(client().call({ method: 'GET', path: '/v3/x' }, { remainingMs: () => 999 }));
    assert.ok(unsent instanceof WechatPayUnavailable);
    assert.equal(unsent.message, "not sent: only 999 ms of the caller's time left");
    assert.equal(seen.length, 1, 'nothing sent');
  });

  it('within the caller’s time: resends while the time holds another attempt', async () => {
    replies.push(reply(500, '{"code":"SYSTEM_ERROR","message":"x"}'), reply(200, '{"ok":true}'));
    const response = await client().call(
      { method: 'GET', path: '/v3/x' },
      { retry: true, remainingMs: () => 20_000 },
    );
    assert.deepEqual(response.json(), { ok: true });
    assert.equal(seen.length, 2);
  });

  it('times out a hanging server after timeoutMs', async () => {
    replies.push(hang);
    const started = Date.now();
    const error = await caught(client({ timeoutMs: 200 }).call({ method: 'GET', path: '/v3/x' }));
    assert.ok(error instanceof WechatPayUnavailable, String(error));
    assert.equal(error.message, 'timed out after 200 ms');
    assert.ok(Date.now() - started < 2000);
  });

  it('retries timeouts and reports the count', async () => {
    replies.push(hang, hang);
    const error = await caught(
      client({ timeoutMs: 100, maxRetries: 1 }).call({ method: 'GET', path: '/v3/x' }, { retry: true }),
    );
    assert.ok(error instanceof WechatPayUnavailable);
    assert.equal(error.message, 'timed out after 100 ms (2 attempts)');
    assert.equal(seen.length, 2);
  });

  it('keeps the last Request-ID seen when the final attempt times out', async () => {
    replies.push(reply(503, '{"code":"SERVICE_UNAVAILABLE","message":"x"}', { requestId: 'R-503' }), hang);
    const error = await caught(
      client({ timeoutMs: 100, maxRetries: 1 }).call({ method: 'GET', path: '/v3/x' }, { retry: true }),
    );
    assert.ok(error instanceof WechatPayUnavailable);
    assert.equal(error.message, 'timed out after 100 ms (2 attempts) (Request-ID R-503)');
    assert.equal(error.requestId, 'R-503');
  });

  it('reports a reset connection', async () => {
    replies.push(reset);
    const error = await caught(client().call({ method: 'GET', path: '/v3/x' }));
    assert.ok(error instanceof WechatPayUnavailable, String(error));
    assert.equal(error.message, 'connection reset');
  });

  it('reports a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await caught(
      client({ baseUrl: `http://127.0.0.1:${port}` }).call({ method: 'GET', path: '/v3/x' }),
    );
    assert.ok(error instanceof WechatPayUnavailable);
    assert.equal(error.message, 'connection refused');
  });

  it('encrypts fields with the WeChat Pay key (OAEP-SHA1)', () => {
    assert.equal(Rsa.decrypt(client().encrypt('测试'), platform.privateKey), '测试');
  });

  it('refuses a GET with a body and a path without a leading slash', async () => {
    await assert.rejects(
      client().sign({ method: 'GET', path: '/v3/x', body: {} }),
      /a GET request has no body/,
    );
    await assert.rejects(client().sign({ method: 'GET', path: 'v3/x' }), /path must start with/);
  });
});
