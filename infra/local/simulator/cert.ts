import { createSign, type KeyObject } from 'node:crypto';

/*
 * A minimal DER encoder, just enough for a self-signed X.509 v3 certificate: node:crypto can parse
 * certificates (X509Certificate) but not create them, and shelling out to `openssl` would make the
 * simulator depend on a binary being installed.
 */

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, content: Buffer): Buffer =>
  Buffer.concat([Buffer.from([tag]), length(content.length), content]);
const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const nullValue = Buffer.from([0x05, 0x00]);

/** Positive INTEGER from big-endian magnitude bytes. */
function integer(magnitude: Buffer): Buffer {
  return tlv(0x02, (magnitude[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude);
}

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime (dates before 2050, as RFC 5280 requires) or GeneralizedTime. */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : tlv(0x18, Buffer.from(`${iso}Z`));
}

function name(attributes: [string, string][]): Buffer {
  return seq(
    ...attributes.map(([type, value]) => set(seq(oid(type), tlv(0x0c, Buffer.from(value, 'utf8'))))),
  );
}

const SHA256_WITH_RSA = seq(oid('1.2.840.113549.1.1.11'), nullValue);

export interface CertificateRequest {
  serialHex: string;
  commonName: string;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  privateKey: KeyObject;
}

/** A self-signed RSA certificate (SHA256withRSA) as PEM. */
export function selfSignedCertificate(req: CertificateRequest): string {
  const subject = name([
    ['2.5.4.6', 'CN'],
    ['2.5.4.10', 'Tenpay.com'],
    ['2.5.4.11', 'WeChat Pay simulator'],
    ['2.5.4.3', req.commonName],
  ]);
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(Buffer.from(req.serialHex, 'hex')),
    SHA256_WITH_RSA,
    subject,
    seq(time(req.notBefore), time(req.notAfter)),
    subject,
    req.publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = createSign('RSA-SHA256').update(tbs).sign(req.privateKey);
  const der = seq(tbs, SHA256_WITH_RSA, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
