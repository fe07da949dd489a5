import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import type { CallbackAttempt, Simulator } from '../../../infra/local/simulator';
import { h5Body } from '../../support/contracts/fixtures';
import { startTestStack, type TestStack } from '../../support/local/stack';

/*
 * Both WeChat Pay key modes through the whole local stack: the simulator signs callbacks (sent by `agree`), the
 * local gateway runs the real notify handler. Configuration changes are made the way a deploy makes them: the
 * handlers read their settings on every invocation, so changing process.env here is changing the Lambda
 * environment (and SSM) there.
 */

const H5 = '/contracts/h5-presign';
const CERTIFICATES_ITEM = '#wechatpay-platform-certificates';

function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'certificates',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:certificates',
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/certificates',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** Runs `work` over `items`, `width` at a time, in order of start. */
async function pool<T>(items: T[], width: number, work: (item: T, index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index] as T, index);
      }
    }),
  );
}

describe('public-key and platform-certificate modes, and key rotation under traffic', () => {
  let stack: TestStack;
  let simulator: Simulator;

  before(async () => {
    stack = await startTestStack();
    assert.ok(stack.simulator, 'the test stack runs the simulator');
    simulator = stack.simulator;
  });
  after(async () => {
    await stack?.close();
  });

  async function presign(count: number): Promise<string[]> {
    const codes: string[] = [];
    await pool(
      Array.from({ length: count }, () => h5Body()),
      8,
      async (body) => {
        const res = await stack.request('POST', H5, body);
        assert.equal(res.status, 201, JSON.stringify(res.body));
        codes.push(String(body.out_contract_code));
      },
    );
    return codes;
  }

  function token(code: string): string {
    const contract = simulator.contracts().find((c) => c.out_contract_code === code);
    assert.ok(contract, `simulator has no contract ${code}`);
    return contract.presign_token;
  }

  /** Every callback attempt for `codes`, once none is waiting for a retry. */
  async function attemptsFor(codes: string[]): Promise<CallbackAttempt[]> {
    const wanted = new Set(codes);
    const mine = () => simulator.callbacks().filter((d) => wanted.has(d.out_contract_code));
    for (let i = 0; i < 200 && mine().some((d) => d.state === 'pending'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const deliveries = mine();
    assert.equal(deliveries.length, codes.length, 'one SIGN_CONTRACT callback per agreed contract');
    return deliveries.flatMap((d) => d.attempts);
  }

  async function assertAllSigned(codes: string[]): Promise<void> {
    const states = new Map((await stack.scan('contracts')).map((i) => [i.out_contract_code, i.state]));
    for (const code of codes) assert.equal(states.get(code), 'SIGNED', code);
  }

  const failures = (attempts: CallbackAttempt[]) =>
    attempts.filter((a) => a.status !== 204).map((a) => `${a.serial}: ${a.status ?? a.error}`);

  test('with certificate mode off, the scheduled refresh does nothing and calls no one', async () => {
    const { handler } = await import('../../../functions/certificates');
    const before = simulator.requests().length;
    const report = await handler({}, lambdaContext());
    assert.deepEqual(report, { enabled: false, certificates: [] });
    assert.equal(simulator.requests().length, before);
  });

  test('public-key rotation during 60 callbacks: next key configured, then promoted; zero failed verifications', async () => {
    const codes = await presign(60);
    const old = simulator.wechatpayPublicKey();
    let rotated: { id: string; pem: string } | undefined;
    let agreed = 0;
    await pool(codes, 6, async (code) => {
      await simulator.agree(token(code));
      agreed++;
      if (agreed === 20) {
        rotated = simulator.rotatePublicKey();
        // Runbook step 1, configuring WeChat Pay's next key, must come before WeChat Pay signs with it. The
        // simulator issues and starts using a key in one call, so both happen in this one synchronous step:
        // no callback can be signed in between. Callbacks already signed with the old key are still in flight.
        process.env.WECHATPAY_PUBLIC_KEY_NEXT_ID = rotated.id;
        process.env.WECHATPAY_PUBLIC_KEY_NEXT = rotated.pem;
      }
      if (agreed === 40 && rotated) {
        // Step 3, promotion: the new key becomes the configured one (it now also encrypts); the old one stays
        // accepted as the other key until WeChat Pay's last retries signed with it are over.
        Object.assign(process.env, {
          WECHATPAY_PUBLIC_KEY_ID: rotated.id,
          WECHATPAY_PUBLIC_KEY: rotated.pem,
          WECHATPAY_PUBLIC_KEY_NEXT_ID: old.id,
          WECHATPAY_PUBLIC_KEY_NEXT: old.pem,
        });
      }
    });
    const attempts = await attemptsFor(codes);
    assert.ok(attempts.length >= 60, `${attempts.length} callback attempts`);
    assert.deepEqual(failures(attempts), [], 'every callback attempt answered 204');
    const serials = new Set(attempts.map((a) => a.serial));
    assert.ok(rotated);
    assert.deepEqual(
      [...serials].sort(),
      [old.id, rotated.id].sort(),
      'callbacks were signed with both keys',
    );
    await assertAllSigned(codes);

    // Step 4: retire the old key. Requests now encrypt with the new key id, which WeChat Pay accepts.
    delete process.env.WECHATPAY_PUBLIC_KEY_NEXT_ID;
    delete process.env.WECHATPAY_PUBLIC_KEY_NEXT;
    const [after] = await presign(1);
    assert.ok(after);
    await simulator.agree(token(after));
    assert.deepEqual(failures(await attemptsFor([after])), []);
  });

  test('migration window: callbacks signed in public-key mode and in certificate mode all verify', async () => {
    process.env.WECHATPAY_PLATFORM_CERTIFICATES = 'enabled';
    const publicKeyId = simulator.wechatpayPublicKey().id;
    const certificateDownloads = () =>
      simulator.requests().filter((r) => r.url.startsWith('/v3/certificates')).length;
    const codes = await presign(50);
    let agreed = 0;
    await pool(codes, 6, async (code) => {
      await simulator.agree(token(code));
      agreed++;
      // WeChat Pay may sign with either key while a merchant migrates; the service learns the certificate from
      // the first callback naming it (one download, every concurrent callback waiting on it).
      if (agreed === 10) simulator.setMode('certificate');
      if (agreed === 25) simulator.setMode('public-key');
      if (agreed === 35) simulator.setMode('certificate');
    });
    const attempts = await attemptsFor(codes);
    assert.ok(attempts.length >= 50);
    assert.deepEqual(failures(attempts), [], 'every callback attempt answered 204');
    const [certificate] = simulator.platformCertificates();
    assert.ok(certificate);
    assert.deepEqual(
      [...new Set(attempts.map((a) => a.serial))].sort(),
      [publicKeyId, certificate.serial].sort(),
      'callbacks were signed in both modes',
    );
    assert.equal(certificateDownloads(), 1, 'one refresh for the whole run');
    await assertAllSigned(codes);

    const { Item } = await stack.db.send(
      new GetCommand({ TableName: stack.env.NOTIFICATIONS_TABLE, Key: { id: CERTIFICATES_ITEM } }),
    );
    const stored = Item?.certificates as { serial: string; pem: string }[] | undefined;
    assert.deepEqual(
      stored?.map((c) => c.serial),
      [certificate.serial],
    );
    assert.equal(stored?.[0]?.pem, certificate.pem);

    // WeChat Pay's answers are signed with the certificate now; presign verifies them with the stored one.
    const [code] = await presign(1);
    assert.ok(code);

    // The scheduled function downloads and stores on its own.
    const { handler } = await import('../../../functions/certificates');
    const report = await handler({}, lambdaContext());
    assert.equal(report.enabled, true);
    assert.deepEqual(
      report.certificates.map((c) => c.serial),
      [certificate.serial],
    );
    assert.equal(certificateDownloads(), 2);
  });

  test('control: a key WeChat Pay signs with before it is configured fails verification', async () => {
    simulator.setMode('public-key');
    const downloads = simulator.requests().filter((r) => r.url.startsWith('/v3/certificates')).length;
    const [code] = await presign(1);
    assert.ok(code);
    const unannounced = simulator.rotatePublicKey();
    await simulator.agree(token(code));
    const [first] = simulator.callbacks().find((d) => d.out_contract_code === code)?.attempts ?? [];
    assert.equal(first?.serial, unannounced.id);
    assert.equal(first?.status, 401, 'an unknown PUB_KEY_ID is refused, and costs no certificate download');
    // Configured late, the key verifies WeChat Pay's next retry.
    process.env.WECHATPAY_PUBLIC_KEY_NEXT_ID = unannounced.id;
    process.env.WECHATPAY_PUBLIC_KEY_NEXT = unannounced.pem;
    const attempts = await attemptsFor([code]);
    assert.equal(attempts.at(-1)?.status, 204);
    await assertAllSigned([code]);
    assert.equal(simulator.requests().filter((r) => r.url.startsWith('/v3/certificates')).length, downloads);
  });
});
