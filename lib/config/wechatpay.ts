import { createPublicKey } from 'node:crypto';
import pkg from '../../package.json' with { type: 'json' };
import { AWS_CLIENT_CONFIG } from '../aws/client-config';
import { DynamoPlatformKeyStore } from '../aws/dynamo-platform-key-store';
import { dynamoDocumentClient } from '../aws/dynamodb-client';
import { timedFetch } from '../aws/latency';
import type { PlatformCertificateSet } from '../contracts/ports';
import { logger } from '../observability';
import type { PlatformCertificate } from '../wechatpay/certificates';
import { downloadCertificates } from '../wechatpay/certificates';
import { WechatPayClient } from '../wechatpay/client';
import type { KeyEntry } from '../wechatpay/refreshing-verifier';
import type { Signer } from '../wechatpay/signer';
import type { Verifier } from '../wechatpay/verifier';
import type { Runtime } from './runtime';
import type { Keys } from './secrets';
import type { Settings } from './settings';

/**
 * The WeChat Pay side of the object graph, shared by the builders in deps.ts: the client, the merchant signer,
 * the keys that verify WeChat Pay's signatures, and the platform certificates (certificate mode).
 */

/**
 * The merchant key's signer. The KMS client is loaded on the first signature, not at cold start: presign then
 * loads it while its DynamoDB claim is in flight (the two run in parallel), and the callback path, which signs
 * only to refresh platform certificates, normally never loads it (bench/README.md, cold load).
 */
export function merchantSigner(s: Settings): Signer {
  let loaded: Promise<Signer> | undefined;
  return {
    async sign(message) {
      loaded ??= import('../aws/kms-signer').then((m) =>
        m.kmsSigner(s.wechatpay.signingKeyId, AWS_CLIENT_CONFIG),
      );
      return (await loaded).sign(message);
    },
  };
}

export function wechatpayClient(
  runtime: Runtime,
  s: Settings,
  keys: Keys,
  verifier: Verifier,
  timeoutMs = s.wechatpay.timeoutMs,
  signer: Signer = merchantSigner(s),
): WechatPayClient {
  const w = s.wechatpay;
  return new WechatPayClient({
    baseUrl: w.baseUrl,
    credentials: { mchid: w.mchid, serialNo: w.merchantSerialNo, signer },
    verifier,
    encryptionKey: { serial: keys.publicKey.id, key: createPublicKey(keys.publicKey.pem) },
    userAgent: `${pkg.name}/${pkg.version} (node/${process.version})`,
    timeoutMs,
    fetch: timedFetch('WechatPayLatency'),
    clock: runtime.clock,
  });
}

/** Every key a WeChat Pay signature may use: the public key, the next one during a switch, the certificates. */
export function verificationKeys(keys: Keys, platform: PlatformCertificate[]): KeyEntry[] {
  return [
    [keys.publicKey.id, keys.publicKey.pem],
    ...(keys.nextPublicKey ? [[keys.nextPublicKey.id, keys.nextPublicKey.pem] as const] : []),
    ...platform.map((c) => [c.serial, c.pem] as const),
  ];
}

function platformKeyStore(s: Settings): DynamoPlatformKeyStore {
  return new DynamoPlatformKeyStore(dynamoDocumentClient(), s.notificationsTable);
}

/** The stored platform certificates in certificate mode (none otherwise), re-read every `keyMaterialMaxAge`. */
export function storedCertificates(runtime: Runtime, s: Settings): Promise<PlatformCertificate[]> {
  if (!s.wechatpay.platformCertificates) return Promise.resolve([]);
  return runtime.certificates.current(platformKeyStore(s), s.notificationsTable, s.keyMaterialMaxAge * 1000);
}

/** WeChat Pay stops waiting for a callback's answer after 5 s; a download inside one must leave time to verify. */
const IN_CALLBACK_DOWNLOAD_MS = 2000;

/**
 * Downloads (verifying by bootstrap) and stores the certificates, and serves them to this process at once.
 * `inCallback`: one short attempt, since a callback is waiting; otherwise the client's timeout and retries.
 */
export async function refreshCertificates(
  runtime: Runtime,
  s: Settings,
  keys: Keys,
  inCallback: boolean,
): Promise<PlatformCertificateSet> {
  const timeoutMs = inCallback
    ? Math.min(s.wechatpay.timeoutMs, IN_CALLBACK_DOWNLOAD_MS)
    : s.wechatpay.timeoutMs;
  const set = await runtime.certificates.refresh(platformKeyStore(s), s.notificationsTable, () =>
    downloadCertificates({
      client: (verifier) => wechatpayClient(runtime, s, keys, verifier, timeoutMs),
      apiV3Key: Buffer.from(keys.apiV3Key),
      retry: !inCallback,
      clock: runtime.clock,
    }),
  );
  logger.info('platform certificates refreshed', {
    certificates: set.certificates.map(({ serial, not_after }) => ({ serial, not_after })),
  });
  return set;
}
