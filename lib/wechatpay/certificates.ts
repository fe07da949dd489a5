import { X509Certificate } from 'node:crypto';
import { decryptResource } from './cipher';
import type { WechatPayClient } from './client';
import { type Clock, systemClock } from './clock';
import { NotificationRejected, SignatureInvalid, WechatPayRejected } from './errors';
import { isObject } from './json';
import { canonicalSerial } from './serial';
import { type SignedHeaders, Verifier } from './verifier';

/** A WeChat Pay platform certificate (certificate mode), decrypted and checked. */
export interface PlatformCertificate {
  /** Upper-case hex without leading zero bytes, as WeChat Pay prints it in `Wechatpay-Serial`. */
  serial: string;
  /** The X.509 certificate, PEM. */
  pem: string;
  /** RFC 3339, from the certificate itself (not from the listing's `effective_time`/`expire_time`). */
  not_before: string;
  not_after: string;
}

export interface DownloadDeps {
  /**
   * A client whose response verification is `verifier`. The download passes one that only records the
   * signature headers: there is no key to check them with until the certificates are decrypted.
   */
  client: (verifier: Verifier) => WechatPayClient;
  apiV3Key: Buffer;
  clock?: Clock;
  /** Retry 5xx/429/timeouts (the schedule can wait; a callback waiting on the refresh cannot). */
  retry?: boolean;
}

const PATH = '/v3/certificates?algorithm_type=RSA';
const ALGORITHM = 'AEAD_AES_256_GCM';
const ASSOCIATED_DATA = 'certificate';

/** Holds the response's signature headers for the bootstrap check that follows the decryption. */
class Deferred extends Verifier {
  signed: SignedHeaders | undefined;

  constructor() {
    super([]);
  }

  override verify(headers: SignedHeaders): void {
    this.signed = headers;
  }
}

/**
 * `GET /v3/certificates`, then, as the PHP SDK's downloader does: decrypt every `encrypt_certificate` with the
 * APIv3 key, parse it, check its serial, and only THEN verify the response signature with those certificates.
 * A response signed by a key that is not among them is rejected, so nothing unverified is ever returned.
 * Returns the certificates that have not expired, those not yet valid included (WeChat Pay issues the next one
 * ahead of its use).
 */
export async function downloadCertificates(deps: DownloadDeps): Promise<PlatformCertificate[]> {
  const clock = deps.clock ?? systemClock;
  const deferred = new Deferred();
  const response = await deps.client(deferred).call({ method: 'GET', path: PATH }, { retry: deps.retry });
  const rejected = (message: string, cause?: unknown) =>
    new WechatPayRejected(
      { status: response.status, code: 'INVALID_RESPONSE', message, request_id: response.requestId },
      { cause },
    );
  const listing = response.json<unknown>();
  const entries = isObject(listing) ? listing.data : undefined;
  if (!Array.isArray(entries)) throw rejected('certificate listing has no data array');

  const now = clock();
  const decrypted = entries.map((entry, i) => openEntry(entry, i, deps.apiV3Key, rejected));
  const current = decrypted.filter((c) => Date.parse(c.not_after) > now);

  const signed = deferred.signed;
  if (!signed) throw new SignatureInvalid('certificate listing arrived without signature headers');
  const verifier = new Verifier(
    current.map((c) => [c.serial, c.pem] as const),
    { clock },
  );
  try {
    verifier.verify(signed, response.body);
  } catch (error) {
    if (!(error instanceof SignatureInvalid)) throw error;
    const id = response.requestId ? ` (Request-ID ${response.requestId})` : '';
    throw new SignatureInvalid(
      `certificate listing is not signed by one of its own unexpired certificates: ${error.message}${id}`,
      { cause: error },
    );
  }
  return current;
}

type Rejected = (message: string, cause?: unknown) => WechatPayRejected;

function openEntry(entry: unknown, index: number, apiV3Key: Buffer, rejected: Rejected): PlatformCertificate {
  const at = `data[${index}]`;
  const sealed = isObject(entry) ? entry.encrypt_certificate : undefined;
  if (!isObject(entry) || typeof entry.serial_no !== 'string' || !isObject(sealed)) {
    throw rejected(`${at} lacks serial_no or encrypt_certificate`);
  }
  const serial = entry.serial_no;
  const { algorithm, nonce, associated_data, ciphertext } = sealed;
  if (algorithm !== ALGORITHM) {
    throw rejected(`${at} (${serial}) algorithm ${JSON.stringify(algorithm)} is not ${ALGORITHM}`);
  }
  // A fixed AAD keeps a callback resource, sealed with the same key, from passing as a certificate.
  if (associated_data !== ASSOCIATED_DATA) {
    throw rejected(
      `${at} (${serial}) associated_data ${JSON.stringify(associated_data)} is not "certificate"`,
    );
  }
  if (typeof nonce !== 'string' || typeof ciphertext !== 'string') {
    throw rejected(`${at} (${serial}) nonce or ciphertext is not a string`);
  }
  let pem: string;
  try {
    pem = decryptResource(apiV3Key, { nonce, ciphertext, associated_data: ASSOCIATED_DATA }).toString('utf8');
  } catch (error) {
    if (!(error instanceof NotificationRejected)) throw error;
    throw rejected(`certificate ${serial}: ${error.message}`, error);
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (cause) {
    throw rejected(`certificate ${serial} does not parse as X.509`, cause);
  }
  const actual = canonicalSerial(certificate.serialNumber);
  if (actual !== canonicalSerial(serial)) {
    throw rejected(`certificate listed as ${serial} carries serial ${actual}`);
  }
  if (certificate.publicKey.asymmetricKeyType !== 'rsa') {
    throw rejected(`certificate ${serial} holds a ${certificate.publicKey.asymmetricKeyType} key, not RSA`);
  }
  const notBefore = Date.parse(certificate.validFrom);
  const notAfter = Date.parse(certificate.validTo);
  if (!(notBefore < notAfter)) {
    throw rejected(
      `certificate ${serial} validity ${certificate.validFrom} .. ${certificate.validTo} is empty`,
    );
  }
  return {
    serial: actual,
    pem,
    not_before: new Date(notBefore).toISOString(),
    not_after: new Date(notAfter).toISOString(),
  };
}
