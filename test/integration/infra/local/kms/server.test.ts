import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GetPublicKeyCommand,
  KMSClient,
  type KMSClientConfig,
  SignCommand,
  type SignCommandInput,
  VerifyCommand,
} from '@aws-sdk/client-kms';
import { type KmsStandIn, startKmsStandIn } from '../../../../../infra/local/kms/server';

const ALGORITHM = 'RSASSA_PKCS1_V1_5_SHA_256';
const ALIAS = 'alias/wechatpay-merchant';
const root = join(import.meta.dirname, '../../../../..');

function client(url: string, config: Partial<KMSClientConfig> = {}): KMSClient {
  return new KMSClient({
    endpoint: url,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    ...config,
  });
}

async function publicKeyOf(kms: KMSClient, keyId: string): Promise<KeyObject> {
  const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  assert.ok(PublicKey);
  return createPublicKey({ key: Buffer.from(PublicKey), format: 'der', type: 'spki' });
}

const signInput = (keyId: string, message: Buffer, type: 'RAW' | 'DIGEST'): SignCommandInput => ({
  KeyId: keyId,
  Message: message,
  MessageType: type,
  SigningAlgorithm: ALGORITHM,
});

const errorName = (name: string) => (error: Error) => {
  assert.equal(error.name, name, error.message);
  return true;
};

describe('KMS stand-in', () => {
  let standIn: KmsStandIn;
  let kms: KMSClient;

  before(async () => {
    standIn = await startKmsStandIn();
    kms = client(standIn.url);
  });
  after(async () => {
    kms?.destroy();
    await standIn?.close();
  });

  it('CreateKey returns RSA_2048 SIGN_VERIFY metadata that DescribeKey repeats', async () => {
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }),
    );
    assert.ok(KeyMetadata?.KeyId);
    assert.match(KeyMetadata.KeyId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(KeyMetadata.Arn, `arn:aws:kms:local:000000000000:key/${KeyMetadata.KeyId}`);
    assert.equal(KeyMetadata.KeySpec, 'RSA_2048');
    assert.equal(KeyMetadata.KeyUsage, 'SIGN_VERIFY');
    assert.deepEqual(KeyMetadata.SigningAlgorithms, [ALGORITHM]);
    assert.ok(KeyMetadata.CreationDate instanceof Date);
    const described = await kms.send(new DescribeKeyCommand({ KeyId: KeyMetadata.Arn }));
    assert.equal(described.KeyMetadata?.KeyId, KeyMetadata.KeyId);
  });

  it('refuses key specs it cannot serve', async () => {
    await assert.rejects(
      kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' })),
      errorName('UnsupportedOperationException'),
    );
  });

  it('signs a DIGEST that node:crypto and KMS Verify both accept', async () => {
    const message = Buffer.from('POST\n/v3/credit-repayment\n1700000000\nnonce\n{}\n');
    const digest = createHash('sha256').update(message).digest();
    const { Signature, KeyId, SigningAlgorithm } = await kms.send(
      new SignCommand(signInput(ALIAS, digest, 'DIGEST')),
    );
    assert.ok(Signature);
    assert.equal(Signature.length, 256);
    assert.equal(SigningAlgorithm, ALGORITHM);
    assert.match(KeyId ?? '', /^arn:aws:kms:local:000000000000:key\//);
    assert.equal(verify('sha256', message, await publicKeyOf(kms, ALIAS), Signature), true);
    const verified = await kms.send(new VerifyCommand({ ...signInput(ALIAS, digest, 'DIGEST'), Signature }));
    assert.equal(verified.SignatureValid, true);
  });

  it('signs a RAW message, identical to signing its digest', async () => {
    const message = Buffer.from('raw message body');
    const raw = await kms.send(new SignCommand(signInput(ALIAS, message, 'RAW')));
    assert.ok(raw.Signature);
    assert.equal(verify('sha256', message, await publicKeyOf(kms, ALIAS), raw.Signature), true);
    const digest = createHash('sha256').update(message).digest();
    const viaDigest = await kms.send(new SignCommand(signInput(ALIAS, digest, 'DIGEST')));
    assert.deepEqual(viaDigest.Signature, raw.Signature);
    const verified = await kms.send(
      new VerifyCommand({ ...signInput(ALIAS, message, 'RAW'), Signature: raw.Signature }),
    );
    assert.equal(verified.SignatureValid, true);
  });

  it('gives an unseen alias, key id and key ARN each a stable key of its own', async () => {
    const first = (await publicKeyOf(kms, 'alias/fresh')).export({ type: 'spki', format: 'der' });
    const again = (await publicKeyOf(kms, 'arn:aws:kms:eu-west-1:123456789012:alias/fresh')).export({
      type: 'spki',
      format: 'der',
    });
    assert.deepEqual(again, first);
    const other = (await publicKeyOf(kms, 'some-key-id')).export({ type: 'spki', format: 'der' });
    assert.notDeepEqual(other, first);
    const viaArn = await publicKeyOf(kms, 'arn:aws:kms:local:000000000000:key/some-key-id');
    assert.deepEqual(viaArn.export({ type: 'spki', format: 'der' }), other);
  });

  it('rejects a RAW message over 4096 bytes and a digest of the wrong size', async () => {
    await assert.rejects(
      kms.send(new SignCommand(signInput(ALIAS, Buffer.alloc(4097, 1), 'RAW'))),
      errorName('ValidationException'),
    );
    await kms.send(new SignCommand(signInput(ALIAS, Buffer.alloc(4096, 1), 'RAW')));
    await assert.rejects(
      kms.send(new SignCommand(signInput(ALIAS, Buffer.alloc(31), 'DIGEST'))),
      errorName('ValidationException'),
    );
  });

  it('raises KMSInvalidSignatureException for a tampered signature', async () => {
    const message = Buffer.from('tamper me');
    const { Signature } = await kms.send(new SignCommand(signInput(ALIAS, message, 'RAW')));
    assert.ok(Signature);
    const tampered = Buffer.from(Signature);
    tampered[10] = (tampered[10] ?? 0) ^ 0xff;
    await assert.rejects(
      kms.send(new VerifyCommand({ ...signInput(ALIAS, message, 'RAW'), Signature: tampered })),
      errorName('KMSInvalidSignatureException'),
    );
    await assert.rejects(
      kms.send(new VerifyCommand({ ...signInput(ALIAS, Buffer.from('other'), 'RAW'), Signature })),
      errorName('KMSInvalidSignatureException'),
    );
  });

  it('raises NotFoundException for a malformed key id and UnsupportedOperationException for other operations', async () => {
    await assert.rejects(
      kms.send(new DescribeKeyCommand({ KeyId: 'not a key' })),
      errorName('NotFoundException'),
    );
    await assert.rejects(
      kms.send(new EncryptCommand({ KeyId: ALIAS, Plaintext: Buffer.from('x') })),
      (error: Error) =>
        error.name === 'UnsupportedOperationException' && error.message.includes('TrentService.Encrypt'),
    );
  });

  it('CreateAlias points a new alias at an existing key, once', async () => {
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }),
    );
    assert.ok(KeyMetadata?.KeyId);
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/explicit', TargetKeyId: KeyMetadata.KeyId }));
    const viaAlias = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/explicit' }));
    assert.equal(viaAlias.KeyMetadata?.KeyId, KeyMetadata.KeyId);
    await assert.rejects(
      kms.send(new CreateAliasCommand({ AliasName: 'alias/explicit', TargetKeyId: KeyMetadata.KeyId })),
      errorName('AlreadyExistsException'),
    );
  });

  it('throttles the next two Sign calls, then signs', async () => {
    const input = signInput(ALIAS, Buffer.alloc(32, 7), 'DIGEST');
    const before = standIn.calls('Sign');
    standIn.injectFault({ operation: 'Sign', count: 2, kind: 'throttle' });
    await assert.rejects(kms.send(new SignCommand(input)), errorName('ThrottlingException'));
    await assert.rejects(kms.send(new SignCommand(input)), errorName('ThrottlingException'));
    assert.ok((await kms.send(new SignCommand(input))).Signature);
    assert.equal(standIn.calls('Sign'), before + 3);
  });

  it('hangs a call until the client times out, then answers again', { timeout: 10_000 }, async () => {
    const impatient = client(standIn.url, {
      requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true },
    });
    try {
      standIn.injectFault({ operation: 'GetPublicKey', count: 1, kind: 'hang' });
      const started = Date.now();
      await assert.rejects(
        impatient.send(new GetPublicKeyCommand({ KeyId: ALIAS })),
        errorName('TimeoutError'),
      );
      assert.ok(Date.now() - started >= 250);
      assert.ok((await impatient.send(new GetPublicKeyCommand({ KeyId: ALIAS }))).PublicKey);
    } finally {
      impatient.destroy();
    }
  });

  it('takes faults and reports calls over HTTP', async () => {
    const response = await fetch(`${standIn.url}/sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({ operation: 'DescribeKey', count: 1, kind: 'unavailable' }),
    });
    assert.equal(response.status, 200);
    await assert.rejects(
      kms.send(new DescribeKeyCommand({ KeyId: ALIAS })),
      (error: Error & { $metadata?: object }) => {
        assert.equal(error.name, 'KMSInternalException');
        assert.deepEqual((error.$metadata as { httpStatusCode: number }).httpStatusCode, 500);
        return true;
      },
    );
    const calls = (await (await fetch(`${standIn.url}/sandbox/calls`)).json()) as Record<string, number>;
    assert.equal(calls.DescribeKey, standIn.calls('DescribeKey'));
    assert.ok((calls.Sign ?? 0) > 0);

    const bad = await fetch(`${standIn.url}/sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({ operation: 'Decrypt', count: 1, kind: 'throttle' }),
    });
    assert.equal(bad.status, 400);
    assert.match(
      ((await bad.json()) as { message: string }).message,
      /operation Decrypt is unknown \(known: .*Sign/,
    );
  });
});

describe('KMS stand-in close()', () => {
  it('ends a hung call instead of waiting for it', { timeout: 10_000 }, async () => {
    const standIn = await startKmsStandIn();
    const kms = client(standIn.url);
    standIn.injectFault({ operation: 'Sign', count: 1, kind: 'hang' });
    const pending = kms.send(new SignCommand(signInput(ALIAS, Buffer.alloc(32), 'DIGEST')));
    const outcome = pending.then(
      () => 'answered',
      () => 'failed',
    );
    while (standIn.calls('Sign') === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await standIn.close();
    assert.equal(await outcome, 'failed');
    kms.destroy();
  });
});

describe('KMS stand-in with a data directory', () => {
  it('keeps an alias key as a PEM file and reloads it after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kms-'));
    const first = await startKmsStandIn({ dataDir });
    const kms1 = client(first.url);
    const before = (await publicKeyOf(kms1, ALIAS)).export({ type: 'spki', format: 'der' });
    const { KeyMetadata } = await kms1.send(new DescribeKeyCommand({ KeyId: ALIAS }));
    kms1.destroy();
    await first.close();
    assert.deepEqual(readdirSync(dataDir), ['alias%2Fwechatpay-merchant.pem']);

    const second = await startKmsStandIn({ dataDir });
    const kms2 = client(second.url);
    try {
      const afterRestart = await publicKeyOf(kms2, ALIAS);
      assert.deepEqual(afterRestart.export({ type: 'spki', format: 'der' }), before);
      const byArn = await kms2.send(new DescribeKeyCommand({ KeyId: KeyMetadata?.Arn }));
      assert.equal(byArn.KeyMetadata?.KeyId, KeyMetadata?.KeyId);
    } finally {
      kms2.destroy();
      await second.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('KMS stand-in CLI', () => {
  it('starts on the given port, serves GetPublicKey and exits cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kms-cli-'));
    const cli = spawn(
      process.execPath,
      ['--import', 'tsx', 'infra/local/kms/server.ts', '--port', '0', '--data-dir', dataDir],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const [line] = await createInterface({ input: cli.stdout })
        [Symbol.asyncIterator]()
        .next()
        .then((r) => [r.value]);
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(String(line))?.[1];
      assert.ok(url, String(line));
      const kms = client(url);
      assert.ok(await publicKeyOf(kms, ALIAS));
      kms.destroy();
      assert.deepEqual(readdirSync(dataDir), ['alias%2Fwechatpay-merchant.pem']);
    } finally {
      const exited = new Promise((resolve) => cli.once('exit', resolve));
      cli.kill('SIGTERM');
      assert.equal(await exited, 0);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
