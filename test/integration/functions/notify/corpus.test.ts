import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { CALLBACK_ANSWERS } from '../../../../lib/http/notification';
import { captureOutput } from '../../../support/observability/output-capture';
import {
  type Answer,
  type Callback,
  type CallbackOptions,
  callback,
  type Delivery,
  randomApiV3Key,
  SIGN_CONTRACT,
  signedContract,
} from '../../../support/wechatpay/callbacks';
import { type NotifyHarness, startNotifyHarness } from './harness';

interface BadCase {
  name: string;
  status: 400 | 401 | 413;
  /** The callback as delivered, built for the presigned `code`. */
  build: (code: string) => Delivery;
  /** The log line's `why` must match (why it was refused); the answer itself stays generic. */
  message?: RegExp;
  /** Only through handler(event): what an API Gateway event can carry but an HTTP client cannot send. */
  eventBody?: (cb: Delivery) => { isBase64Encoded: boolean; eventBody: string };
}

const OTHER_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

describe('notify: the bad-callback corpus is refused with 4xx FAIL and changes nothing', () => {
  let h: NotifyHarness;
  let code: string;
  const sign = (c: string, options: CallbackOptions = {}): Callback =>
    callback(h.keys, { resource: signedContract(c), ...options });
  /** The callback with headers changed after signing: `(value) => new value`, undefined removes the header. */
  const withHeader = (
    cb: Callback,
    name: string,
    change: (value: string) => string | undefined,
  ): Delivery => {
    const headers = { ...cb.headers };
    const value = change(headers[name] ?? '');
    if (value === undefined) delete headers[name];
    else headers[name] = value;
    return { headers, body: cb.body };
  };
  const flip = (body: Buffer, at: number): Buffer => {
    const copy = Buffer.from(body);
    copy[at] = (copy[at] ?? 0) ^ 0x01;
    return copy;
  };

  const cases: BadCase[] = [
    {
      name: 'tampered body (one byte of the resource ciphertext)',
      status: 401,
      message: /signature does not match/,
      build: (c) => {
        const cb = sign(c);
        return { headers: cb.headers, body: flip(cb.body, cb.body.indexOf('"ciphertext":"') + 20) };
      },
    },
    {
      name: 'body parsed and re-serialised (same JSON, other bytes)',
      status: 401,
      message: /signature does not match/,
      build: (c) => {
        const cb = sign(c);
        return {
          headers: cb.headers,
          body: Buffer.from(JSON.stringify(JSON.parse(String(cb.body)), null, 1)),
        };
      },
    },
    {
      name: 'tampered Wechatpay-Nonce',
      status: 401,
      message: /signature does not match/,
      build: (c) => withHeader(sign(c), 'Wechatpay-Nonce', (nonce) => `${nonce}x`),
    },
    {
      name: 'tampered Wechatpay-Timestamp (one second later than signed)',
      status: 401,
      message: /signature does not match/,
      build: (c) => withHeader(sign(c), 'Wechatpay-Timestamp', (timestamp) => String(Number(timestamp) + 1)),
    },
    {
      name: 'wrong serial: the message names it and the known ones',
      status: 401,
      build: (c) => sign(c, { serial: 'PUB_KEY_ID_0000000000000000000000000001' }),
    },
    {
      name: 'signed with another RSA key under the right serial',
      status: 401,
      message: /signature does not match/,
      build: (c) => sign(c, { signWith: OTHER_KEY }),
    },
    {
      name: 'WECHATPAY/SIGNTEST/ probe',
      status: 401,
      message: /probe/,
      build: (c) => sign(c, { signature: `WECHATPAY/SIGNTEST/${Buffer.alloc(256, 7).toString('base64')}` }),
    },
    {
      name: 'stale timestamp (-300 s, correctly signed)',
      status: 401,
      message: /timestamp skew 30\d s exceeds 300 s/,
      build: (c) => sign(c, { now: Date.now() - 300_000 }),
    },
    {
      // Delivered twice (gateway, then handler), each later than it was signed: a margin keeps it over 300 s.
      name: 'future timestamp (+305 s, correctly signed)',
      status: 401,
      message: /timestamp skew 30\d s exceeds 300 s/,
      build: (c) => sign(c, { now: Date.now() + 305_000 }),
    },
    {
      name: 'non-numeric timestamp (correctly signed)',
      status: 401,
      message: /Wechatpay-Timestamp .* is not a decimal integer/,
      build: (c) => sign(c, { timestamp: `${Math.floor(Date.now() / 1000)}.0` }),
    },
    {
      name: 'signature that is not Base64',
      status: 401,
      message: /not valid Base64/,
      build: (c) => sign(c, { signature: 'not*base64!' }),
    },
    ...(['Timestamp', 'Nonce', 'Signature', 'Serial'] as const).map(
      (part): BadCase => ({
        name: `missing Wechatpay-${part}`,
        status: 401,
        message: new RegExp(`missing Wechatpay-${part} header`),
        build: (c) => withHeader(sign(c), `Wechatpay-${part}`, () => undefined),
      }),
    ),
    {
      name: 'two Wechatpay-Signature headers (the valid one twice)',
      status: 401,
      build: (c) => {
        const cb = sign(c);
        const pairs = Object.entries(cb.headers);
        return {
          headers: [...pairs, ['Wechatpay-Signature', cb.headers['Wechatpay-Signature'] ?? '']],
          body: cb.body,
        };
      },
    },
    {
      name: 'two Wechatpay-Serial headers',
      status: 401,
      build: (c) => {
        const cb = sign(c);
        return {
          headers: [...Object.entries(cb.headers), ['wechatpay-serial', 'PUB_KEY_ID_1']],
          body: cb.body,
        };
      },
    },
    {
      name: 'wrong AAD (encrypted with other associated_data than declared)',
      status: 400,
      message: /AES-256-GCM authentication/,
      build: (c) => sign(c, { aad: 'payscore', declaredAad: 'credit_repayment' }),
    },
    {
      name: 'associated_data left out of the envelope',
      status: 400,
      message: /AES-256-GCM authentication/,
      build: (c) => sign(c, { declaredAad: null }),
    },
    {
      name: 'wrong APIv3 key',
      status: 400,
      message: /AES-256-GCM authentication/,
      build: (c) => sign(c, { apiV3Key: randomApiV3Key() }),
    },
    {
      name: 'resource nonce other than the one used',
      status: 400,
      message: /AES-256-GCM authentication/,
      build: (c) => sign(c, { resourceNonce: 'abcdefghijkl', declaredNonce: 'abcdefghijkm' }),
    },
    {
      name: 'truncated tag (last byte cut)',
      status: 400,
      message: /AES-256-GCM authentication/,
      build: (c) => sign(c, { truncateTag: 1 }),
    },
    {
      name: 'ciphertext shorter than a tag',
      status: 400,
      message: /shorter than the 16-byte tag/,
      build: (c) => sign(c, { ciphertext: Buffer.alloc(10).toString('base64') }),
    },
    {
      name: 'ciphertext that is not Base64',
      status: 400,
      message: /ciphertext is not valid Base64/,
      build: (c) => sign(c, { ciphertext: '%%%not-base64%%%' }),
    },
    {
      name: 'oversized body (64 KB + 1, correctly signed)',
      status: 413,
      message: /65537 bytes exceeds 65536/,
      build: (c) =>
        sign(c, {
          envelope: (e) => ({ ...e, pad: 'x'.repeat(65_537 - Buffer.byteLength(JSON.stringify(e)) - 9) }),
        }),
    },
    {
      name: 'oversized body, unsigned',
      status: 413,
      build: () => ({ headers: { 'Content-Type': 'application/json' }, body: Buffer.alloc(200_000, 0x20) }),
    },
    {
      name: 'non-JSON body (correctly signed)',
      status: 400,
      message: /notification body is not JSON/,
      build: (c) => sign(c, { body: `id=1&out_contract_code=${c}` }),
    },
    {
      name: 'empty body (correctly signed)',
      status: 400,
      message: /empty/,
      build: (c) => sign(c, { body: '' }),
    },
    {
      name: 'JSON that is not an object (correctly signed)',
      status: 400,
      message: /not a JSON object/,
      build: (c) => sign(c, { body: '["CREDIT_REPAYMENT.SIGN_CONTRACT"]' }),
    },
    {
      name: 'envelope without resource',
      status: 400,
      message: /resource is missing/,
      build: (c) => sign(c, { envelope: ({ resource: _gone, ...rest }) => rest }),
    },
    {
      name: 'envelope without id',
      status: 400,
      message: /notification id is missing/,
      build: (c) => sign(c, { envelope: ({ id: _gone, ...rest }) => rest }),
    },
    {
      name: 'algorithm other than AEAD_AES_256_GCM',
      status: 400,
      message: /is not AEAD_AES_256_GCM/,
      build: (c) => sign(c, { algorithm: 'AEAD_SM4_GCM' }),
    },
    {
      name: 'resource plaintext that is not JSON',
      status: 400,
      message: /decrypted resource is not JSON/,
      build: (c) => sign(c, { resource: `out_contract_code=${c}` }),
    },
    {
      name: 'resource that is not a contract (no out_contract_code)',
      status: 400,
      message: /resource is not a contract: contract is missing out_contract_code/,
      build: (c) => {
        const { out_contract_code: _gone, ...rest } = signedContract(c);
        return sign(c, { resource: rest });
      },
    },
    {
      name: 'contract without contract_state',
      status: 400,
      message: /missing contract_state/,
      build: (c) => {
        const { contract_state: _gone, ...rest } = signedContract(c);
        return sign(c, { resource: rest, eventType: SIGN_CONTRACT });
      },
    },
    {
      name: 'base64 event body that decodes to other bytes than were signed',
      status: 401,
      message: /signature does not match/,
      build: (c) => sign(c),
      eventBody: (cb) => ({ isBase64Encoded: true, eventBody: flip(cb.body, 10).toString('base64') }),
    },
    {
      name: 'isBase64Encoded true on a body that is not base64 (gateway flag wrong)',
      status: 401,
      message: /signature does not match/,
      build: (c) => sign(c),
      eventBody: (cb) => ({ isBase64Encoded: true, eventBody: cb.body.toString('utf8') }),
    },
  ];

  before(async () => {
    h = await startNotifyHarness('corpus');
    code = (await h.presign()).code;
  });
  after(async () => {
    await h?.close();
  });

  test('the corpus has at least 20 cases', () => {
    assert.ok(cases.length >= 20, `${cases.length} cases`);
  });

  /** What a stranger must never read in an answer: our key ids, serials, ARNs, the reason in detail. */
  const secrets = () => [h.keys.serial, 'PUB_KEY_ID_', 'arn:', 'serial', 'AES', 'Wechatpay-'];

  /** The answer is WeChat Pay's FAIL shape within its limits, and generic; the log line holds the reason. */
  const refused = async (deliver: () => Promise<Answer>, c: BadCase, via: string) => {
    const output = captureOutput();
    let answer: Answer;
    try {
      answer = await deliver();
    } finally {
      output.stop();
    }
    const what = `${c.name} via ${via}: ${JSON.stringify(answer.body)}`;
    assert.equal(answer.status, c.status, what);
    const { code: failCode, message } = answer.body as { code: string; message: string };
    assert.equal(failCode, 'FAIL', what);
    assert.ok(failCode.length <= 32 && message.length <= 64, `${what}: over WeChat Pay's limits`);
    const generic = Object.values(CALLBACK_ANSWERS).find((a) => a.status === c.status);
    assert.equal(message, generic?.message, what);
    for (const secret of secrets()) assert.ok(!JSON.stringify(answer.body).includes(secret), what);
    const why = output
      .logs()
      .filter((l) => l.message === 'callback refused')
      .map((l) => String(l.why));
    assert.equal(why.length, 1, `${what}: one log line says why`);
    if (c.message) assert.match(why[0] ?? '', c.message, what);
  };

  for (const c of cases) {
    test(`${c.status}: ${c.name}`, async () => {
      const before = await h.snapshot();
      const cb = c.build(code);
      const { eventBody } = c;
      if (eventBody) {
        await refused(() => h.invoke(cb, eventBody(cb)), c, 'handler');
      } else {
        await refused(() => h.deliver(cb), c, 'gateway (isBase64Encoded false)');
        await refused(() => h.invoke(cb, { isBase64Encoded: true }), c, 'handler (isBase64Encoded true)');
      }
      assert.deepEqual(await h.snapshot(), before, 'both tables unchanged');
    });
  }

  test('the wrong serial: the log names the serial sent and the serials known, the answer neither', async () => {
    const output = captureOutput();
    let res: Answer;
    try {
      res = await h.deliver(sign(code, { serial: 'PUB_KEY_ID_0000000000000000000000000001' }));
    } finally {
      output.stop();
    }
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, { code: 'FAIL', message: 'signature verification failed' });
    const refusal = output.logs().find((l) => l.message === 'callback refused');
    assert.equal(
      refusal?.why,
      `unknown serial PUB_KEY_ID_0000000000000000000000000001 (known: ${h.keys.serial})`,
    );
  });

  test('refusals after decryption neither log nor answer the plaintext personal data', async () => {
    const openid = `oPRIVATE${Date.now()}`;
    const { out_contract_code: _gone, ...noCode } = signedContract(code, { openid });
    const refusals = [
      sign(code, { resource: `{"openid":"${openid}",` }),
      sign(code, { resource: noCode }),
      sign(code, { resource: { ...signedContract(code, { openid }), contract_state: undefined } }),
    ];
    const written: string[] = [];
    const streams = [process.stdout, process.stderr] as const;
    const originals = streams.map((s) => s.write);
    streams.forEach((stream, i) => {
      stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
        written.push(String(chunk));
        return (originals[i] as typeof stream.write).call(stream, chunk, ...rest);
      }) as typeof stream.write;
    });
    const answers: Answer[] = [];
    try {
      for (const cb of refusals) answers.push(await h.deliver(cb));
    } finally {
      streams.forEach((stream, i) => {
        stream.write = originals[i] as typeof stream.write;
      });
    }
    assert.deepEqual(
      answers.map((a) => a.status),
      [400, 400, 400],
    );
    const logged = written.join('');
    assert.match(logged, /callback refused/, 'the refusals were logged (and captured)');
    assert.ok(!logged.includes(openid), 'no openid in the log lines');
    assert.ok(!JSON.stringify(answers).includes(openid), 'no openid in the answers');
  });

  test('control: the same callback, untampered, is applied (so the corpus could have changed something)', async () => {
    const res = await h.deliver(sign(code));
    assert.equal(res.status, 204, JSON.stringify(res.body));
    assert.equal((await h.contract(code))?.state, 'SIGNED');
  });
});
