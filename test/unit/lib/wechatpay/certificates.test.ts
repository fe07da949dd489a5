import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { selfSignedCertificate } from '../../../../infra/local/simulator/cert';
import { SignatureInvalid, WechatPayRejected } from '../../../../lib/errors';
import { downloadCertificates } from '../../../../lib/wechatpay/certificates';
import { WechatPayClient } from '../../../../lib/wechatpay/client';
import { PemSigner } from '../../../../lib/wechatpay/signer';
import type { Verifier } from '../../../../lib/wechatpay/verifier';
import { sealResource } from '../../../support/wechatpay/callbacks';

const DAY = 24 * 3600_000;
const MCHID = '1900000001';
const MERCHANT_SERIAL = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';
const PUB_KEY_ID = 'PUB_KEY_ID_0114232134912410000000000000';
const apiV3Key = Buffer.from(randomBytes(16).toString('hex'));
const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const wechatPublicKey = generateKeyPairSync('rsa', { modulusLength: 2048 });

interface Issued {
  serial: string;
  pem: string;
  privateKey: KeyObject;
}

/** A platform certificate as WeChat Pay's CA would issue it (self-signed here), valid from `from` to `to`. */
function issue(from: number, to: number): Issued {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const bytes = randomBytes(20);
  bytes[0] = 0x10 + ((bytes[0] ?? 0) % 0x70);
  const serial = bytes.toString('hex').toUpperCase();
  const pem = selfSignedCertificate({
    serialHex: serial,
    commonName: 'Tenpay.com Root CA (test)',
    notBefore: new Date(from),
    notAfter: new Date(to),
    publicKey: createPublicKey(privateKey),
    privateKey,
  });
  return { serial, pem, privateKey };
}

const now = Date.now();
const current = issue(now - 400 * DAY, now + 1000 * DAY);
const next = issue(now - DAY, now + 1800 * DAY);
const expired = issue(now - 2000 * DAY, now - DAY);

interface Entry {
  serial_no: string;
  encrypt_certificate: Record<string, string>;
}

function entry(cert: Issued, options: { aad?: string; serialNo?: string } = {}): Entry {
  const nonce = randomBytes(6).toString('hex');
  const aad = options.aad ?? 'certificate';
  return {
    serial_no: options.serialNo ?? cert.serial,
    encrypt_certificate: {
      algorithm: 'AEAD_AES_256_GCM',
      nonce,
      associated_data: aad,
      ciphertext: sealResource(apiV3Key, cert.pem, nonce, aad).toString('base64'),
    },
  };
}

/** What the loopback WeChat Pay answers next: the listing and who signs it. */
let listing: { data: Entry[] };
let signer: { serial: string; privateKey: KeyObject };
const seen: { method: string; url: string; authorization: string }[] = [];
let server: Server;
let baseUrl: string;

function answer(req: IncomingMessage, res: import('node:http').ServerResponse): void {
  seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization ?? '' });
  const body = Buffer.from(JSON.stringify(listing));
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(16).toString('hex');
  const message = Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`), body, Buffer.from('\n')]);
  res
    .writeHead(200, {
      'Content-Type': 'application/json',
      'Request-ID': 'test-request-id',
      'Wechatpay-Timestamp': timestamp,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Serial': signer.serial,
      'Wechatpay-Signature': sign('sha256', message, signer.privateKey).toString('base64'),
    })
    .end(body);
}

const client = (verifier: Verifier) =>
  new WechatPayClient({
    baseUrl,
    credentials: { mchid: MCHID, serialNo: MERCHANT_SERIAL, signer: new PemSigner(merchant.privateKey) },
    verifier,
    encryptionKey: { serial: PUB_KEY_ID, key: wechatPublicKey.publicKey },
    userAgent: 'certificates-test/1',
    sleep: async () => {},
  });

const download = () => downloadCertificates({ client, apiV3Key });

async function rejectsWith(kind: typeof SignatureInvalid | typeof WechatPayRejected, message: RegExp) {
  await assert.rejects(download(), (error: unknown) => {
    assert.ok(error instanceof kind, `expected ${kind.name}, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

describe('downloadCertificates (GET /v3/certificates, bootstrap verification)', () => {
  before(async () => {
    server = createServer(answer);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen.length = 0;
    listing = { data: [entry(current), entry(next)] };
    signer = current;
  });

  it('decrypts every certificate and returns them once the listing verifies with one of them', async () => {
    const certificates = await download();
    assert.deepEqual(
      certificates.map((c) => c.serial),
      [current.serial, next.serial],
    );
    assert.equal(certificates[0]?.pem, current.pem);
    assert.equal(certificates[1]?.pem, next.pem);
    assert.equal(
      certificates[0]?.not_after,
      new Date(Math.floor((now + 1000 * DAY) / 1000) * 1000).toISOString(),
    );
    assert.equal(certificates[1]?.not_before, new Date(Math.floor((now - DAY) / 1000) * 1000).toISOString());
  });

  it('asks for the RSA certificates with a request signed by the merchant key', async () => {
    await download();
    assert.equal(seen.length, 1);
    const [request] = seen;
    assert.equal(request?.method, 'GET');
    assert.equal(request?.url, '/v3/certificates?algorithm_type=RSA');
    const pairs = Object.fromEntries(
      [...(request?.authorization ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    ) as Record<string, string>;
    assert.equal(pairs.mchid, MCHID);
    const signed = `GET\n/v3/certificates?algorithm_type=RSA\n${pairs.timestamp}\n${pairs.nonce_str}\n\n`;
    assert.ok(
      verify(
        'sha256',
        Buffer.from(signed),
        merchant.publicKey,
        Buffer.from(String(pairs.signature), 'base64'),
      ),
    );
  });

  it('accepts a listing signed by the next certificate too (the last days of a rotation)', async () => {
    signer = next;
    assert.equal((await download()).length, 2);
  });

  it('drops an expired certificate and keeps the rest', async () => {
    listing = { data: [entry(expired), entry(current)] };
    assert.deepEqual(
      (await download()).map((c) => c.serial),
      [current.serial],
    );
  });

  it('rejects a listing signed only by an expired certificate', async () => {
    listing = { data: [entry(expired), entry(current)] };
    signer = expired;
    await rejectsWith(SignatureInvalid, new RegExp(`unknown serial ${expired.serial}`));
  });

  it('rejects a tampered certificate: AES-GCM authentication fails', async () => {
    const tampered = entry(next);
    const sealed = Buffer.from(String(tampered.encrypt_certificate.ciphertext), 'base64');
    sealed[40] = (sealed[40] ?? 0) ^ 0x01;
    tampered.encrypt_certificate.ciphertext = sealed.toString('base64');
    listing = { data: [entry(current), tampered] };
    await rejectsWith(WechatPayRejected, new RegExp(`certificate ${next.serial}: .*failed AES-256-GCM`));
  });

  it('rejects a certificate sealed with another APIv3 key', async () => {
    const other = entry(next);
    other.encrypt_certificate.ciphertext = sealResource(
      Buffer.from('A'.repeat(32)),
      next.pem,
      String(other.encrypt_certificate.nonce),
      'certificate',
    ).toString('base64');
    listing = { data: [entry(current), other] };
    await rejectsWith(WechatPayRejected, /failed AES-256-GCM authentication/);
  });

  it('rejects a listing signed by a key that is not among the downloaded certificates', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
    signer = { serial: current.serial, privateKey: stranger.privateKey };
    await rejectsWith(SignatureInvalid, /not signed by one of its own.*does not match the body/);
    signer = { serial: 'ABCDEF0123456789', privateKey: stranger.privateKey };
    await rejectsWith(SignatureInvalid, /unknown serial ABCDEF0123456789/);
  });

  it('rejects a certificate listed under another serial', async () => {
    listing = { data: [entry(current), entry(next, { serialNo: current.serial })] };
    await rejectsWith(
      WechatPayRejected,
      new RegExp(`listed as ${current.serial} carries serial ${next.serial}`),
    );
  });

  it('rejects a certificate sealed under an associated_data other than "certificate"', async () => {
    listing = { data: [entry(current), entry(next, { aad: 'credit_repayment' })] };
    await rejectsWith(WechatPayRejected, /associated_data "credit_repayment" is not "certificate"/);
  });

  it('rejects a listing without a data array', async () => {
    listing = {} as { data: Entry[] };
    await rejectsWith(WechatPayRejected, /no data array/);
  });
});
