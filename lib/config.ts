import { createPublicKey, hkdfSync } from 'node:crypto';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pkg from '../package.json' with { type: 'json' };
import { DynamoContractStore } from './aws/dynamo-contract-store';
import { DynamoNotificationStore } from './aws/dynamo-notification-store';
import { DynamoPlatformKeyStore } from './aws/dynamo-platform-key-store';
import { EventBridgePublisher, LogPublisher } from './aws/eventbridge-publisher';
import { timed, timedFetch } from './aws/latency';
import type { ApplyNotificationDeps } from './contracts/notifications';
import { refreshPlatformCertificates, unexpired } from './contracts/platform-keys';
import type { EventPublisher, PlatformCertificateSet } from './contracts/ports';
import type { PresignDeps } from './contracts/presign';
import type { SyncDeps } from './contracts/sync';
import type { TerminateDeps } from './contracts/terminate';
import { logger, tracer } from './observability';
import { downloadCertificates, type PlatformCertificate } from './wechatpay/certificates';
import { WechatPayClient } from './wechatpay/client';
import { systemClock } from './wechatpay/clock';
import { type KeyEntry, RefreshingVerifier } from './wechatpay/refreshing-verifier';
import type { Signer } from './wechatpay/signer';
import { Verifier } from './wechatpay/verifier';

/**
 * The one place that reads the environment (SPEC §5) and builds the object graph. Handlers call the
 * builders; nothing else looks at `process.env`.
 */
export interface Settings {
  wechatpay: {
    baseUrl: string;
    mchid: string;
    merchantSerialNo: string;
    signingKeyId: string;
    publicKeyId: string;
    /** PEM text, or the name of the SSM parameter that holds it (deployed). */
    publicKey: string;
    /** During a WeChat Pay public key switch: the next key's id and its PEM text or SSM parameter name. */
    nextPublicKey?: { id: string; key: string };
    /** Certificate mode (WECHATPAY_PLATFORM_CERTIFICATES=enabled): platform certificates verify too. */
    platformCertificates: boolean;
    /** The 32-byte key itself, or the ARN of the Secrets Manager secret that holds it (deployed). */
    apiV3Key: string;
    notifyUrl: string;
    timeoutMs: number;
  };
  contractsTable: string;
  notificationsTable: string;
  eventBusName?: string;
  /** Seconds Powertools Parameters may serve a cached key or secret. */
  parametersMaxAge: number;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const missing: string[] = [];
  const invalid: string[] = [];
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) missing.push(name);
    return value ?? '';
  };
  const settings: Settings = {
    wechatpay: {
      baseUrl: env.WECHATPAY_BASE_URL?.trim() || 'https://api.mch.weixin.qq.com',
      mchid: required('WECHATPAY_MCHID'),
      merchantSerialNo: required('WECHATPAY_MERCHANT_SERIAL_NO'),
      signingKeyId: env.WECHATPAY_SIGNING_KEY_ID?.trim() || 'alias/wechatpay-merchant',
      publicKeyId: required('WECHATPAY_PUBLIC_KEY_ID'),
      publicKey: required('WECHATPAY_PUBLIC_KEY'),
      ...nextPublicKey(env, invalid),
      platformCertificates: platformMode(env, invalid),
      apiV3Key: required('WECHATPAY_APIV3_KEY'),
      notifyUrl: required('WECHATPAY_NOTIFY_URL'),
      timeoutMs: positive(env, 'WECHATPAY_TIMEOUT_MS', 5000, invalid),
    },
    contractsTable: required('CONTRACTS_TABLE'),
    notificationsTable: required('NOTIFICATIONS_TABLE'),
    ...(env.EVENT_BUS_NAME?.trim() ? { eventBusName: env.EVENT_BUS_NAME.trim() } : {}),
    parametersMaxAge: positive(env, 'POWERTOOLS_PARAMETERS_MAX_AGE', 300, invalid),
  };
  if (missing.length > 0)
    throw new Error(`missing configuration: ${missing.join(', ')} (see README "Configuration")`);
  if (settings.wechatpay.nextPublicKey?.id === settings.wechatpay.publicKeyId) {
    invalid.push(
      `WECHATPAY_PUBLIC_KEY_NEXT_ID repeats WECHATPAY_PUBLIC_KEY_ID ${settings.wechatpay.publicKeyId}`,
    );
  }
  if (invalid.length > 0) throw new Error(`invalid configuration: ${invalid.join('; ')}`);
  return settings;
}

/** A positive integer setting, or its default; anything else is named in `invalid`. */
function positive(env: NodeJS.ProcessEnv, name: string, fallback: number, invalid: string[]): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^[1-9]\d*$/.test(raw)) invalid.push(`${name}=${raw} is not a positive integer`);
  return Number(raw);
}

/**
 * WECHATPAY_PUBLIC_KEY_NEXT_ID / WECHATPAY_PUBLIC_KEY_NEXT: a second WeChat Pay public key that verifies (never
 * encrypts), so that a key switch fails no verification. Two named slots rather than a list keep each id next to
 * its PEM, and let promotion swap them in one deploy. Runbook (deployed; osls parameters):
 *   1. Put the new key's PEM in the SSM parameter the current key does not use (the first time: the default
 *      <public key parameter>-next); deploy with wechatpayPublicKeyNextId=<new id> and, unless it is the default,
 *      wechatpayPublicKeyNextParameter=<that name>. Every function now verifies with both keys.
 *   2. Switch WeChat Pay to the new key (merchant portal). Either signature verifies.
 *   3. Promote in ONE deploy, so each function's id and PEM change together: wechatpayPublicKeyId=<new id>,
 *      wechatpayPublicKeyParameter=<the next parameter>, wechatpayPublicKeyNextId=<old id>,
 *      wechatpayPublicKeyNextParameter=<the old parameter>. Requests now encrypt with the new key.
 *   4. Once nothing signed by the old key can arrive (a day), deploy without wechatpayPublicKeyNextId.
 * test/integration/functions/key-modes.test.ts runs this during traffic.
 */
function nextPublicKey(
  env: NodeJS.ProcessEnv,
  invalid: string[],
): { nextPublicKey?: { id: string; key: string } } {
  const id = env.WECHATPAY_PUBLIC_KEY_NEXT_ID?.trim();
  const key = env.WECHATPAY_PUBLIC_KEY_NEXT?.trim();
  if (id && key) return { nextPublicKey: { id, key } };
  if (id || key) {
    const [set, unset] = id
      ? ['WECHATPAY_PUBLIC_KEY_NEXT_ID', 'WECHATPAY_PUBLIC_KEY_NEXT']
      : ['WECHATPAY_PUBLIC_KEY_NEXT', 'WECHATPAY_PUBLIC_KEY_NEXT_ID'];
    invalid.push(`${set} is set but ${unset} is not (a key switch needs both)`);
  }
  return {};
}

function platformMode(env: NodeJS.ProcessEnv, invalid: string[]): boolean {
  const mode = env.WECHATPAY_PLATFORM_CERTIFICATES?.trim() || 'disabled';
  if (mode !== 'enabled' && mode !== 'disabled') {
    invalid.push(`WECHATPAY_PLATFORM_CERTIFICATES is ${JSON.stringify(mode)}, not enabled or disabled`);
  }
  return mode === 'enabled';
}

/** Key material, resolved from SSM / Secrets Manager when deployed; Powertools caches it for `parametersMaxAge`. */
export interface Keys {
  publicKey: { id: string; pem: string };
  nextPublicKey?: { id: string; pem: string };
  apiV3Key: string;
}

async function publicKeyPem(name: string, value: string, maxAge: number): Promise<string> {
  if (value.startsWith('-----BEGIN')) return value;
  const pem = await getParameter(value, { maxAge, decrypt: true });
  if (!pem) throw new Error(`${name}: SSM parameter ${value} is empty`);
  return pem;
}

/** SSM parameter names go to getParameter, secret ARNs to getSecret (Powertools, cached `parametersMaxAge`). */
export async function loadKeys(s: Settings, needsApiV3Key: boolean): Promise<Keys> {
  const { publicKey, nextPublicKey, apiV3Key } = s.wechatpay;
  const maxAge = s.parametersMaxAge;
  const [pem, nextPem, apiV3] = await Promise.all([
    publicKeyPem('WECHATPAY_PUBLIC_KEY', publicKey, maxAge),
    nextPublicKey && publicKeyPem('WECHATPAY_PUBLIC_KEY_NEXT', nextPublicKey.key, maxAge),
    !needsApiV3Key
      ? ''
      : apiV3Key.startsWith('arn:aws:secretsmanager:')
        ? getSecret<string>(apiV3Key, { maxAge })
        : apiV3Key,
  ]);
  if (needsApiV3Key && (typeof apiV3 !== 'string' || Buffer.byteLength(apiV3) !== 32)) {
    throw new Error('WECHATPAY_APIV3_KEY must be the 32-byte APIv3 key (or a secret holding it)');
  }
  return {
    publicKey: { id: s.wechatpay.publicKeyId, pem },
    ...(nextPublicKey && nextPem ? { nextPublicKey: { id: nextPublicKey.id, pem: nextPem } } : {}),
    apiV3Key: apiV3 ?? '',
  };
}

const awsClientConfig = {
  maxAttempts: 3,
  // Fail fast enough to answer API Gateway (29 s) with a 503 of our own rather than its 504.
  requestHandler: { requestTimeout: 2000, connectionTimeout: 1000, throwOnRequestTimeout: true },
};

/**
 * WeChat Pay waits 5 s for a callback answer and the callback path makes two DynamoDB calls in a row (read, then
 * one transaction): 2 attempts of at most 0.9 s each keep even a hanging DynamoDB under ~4 s, so WeChat Pay gets
 * our 500 (and retries) instead of timing out. Measured before this: a hanging DynamoDB answered after 6.1 s.
 */
const callbackClientConfig = {
  maxAttempts: 2,
  requestHandler: { requestTimeout: 900, connectionTimeout: 500, throwOnRequestTimeout: true },
};

const documentClients = new Map<'api' | 'callback', DynamoDBDocumentClient>();
function dynamo(profile: 'api' | 'callback' = 'api'): DynamoDBDocumentClient {
  let client = documentClients.get(profile);
  if (!client) {
    const config = profile === 'callback' ? callbackClientConfig : awsClientConfig;
    client = DynamoDBDocumentClient.from(
      tracer.captureAWSv3Client(timed(new DynamoDBClient(config), 'DynamoDBLatency')),
      {
        marshallOptions: { removeUndefinedValues: true },
      },
    );
    documentClients.set(profile, client);
  }
  return client;
}

/**
 * The merchant key's signer. The KMS client is loaded on the first signature, not at cold start: presign then
 * loads it while its DynamoDB claim is in flight (the two run in parallel), and the callback path, which signs
 * only to refresh platform certificates, normally never loads it (bench/README.md, cold load).
 */
function merchantSigner(s: Settings): Signer {
  let loaded: Promise<Signer> | undefined;
  return {
    async sign(message) {
      loaded ??= import('./aws/kms-signer').then((m) =>
        m.kmsSigner(s.wechatpay.signingKeyId, awsClientConfig),
      );
      return (await loaded).sign(message);
    },
  };
}

/** A key derived for the request HMAC, so the APIv3 key itself is never used for two purposes. */
function hashKey(apiV3Key: string): Buffer {
  return Buffer.from(hkdfSync('sha256', apiV3Key, '', 'out_contract_code request hash', 32));
}

function platformKeyStore(s: Settings): DynamoPlatformKeyStore {
  return new DynamoPlatformKeyStore(dynamo(), s.notificationsTable);
}

let platformCache:
  | { table: string; readAt: number; certificates: Promise<PlatformCertificate[]> }
  | undefined;

/** The stored platform certificates (certificate mode), re-read at most every `parametersMaxAge` seconds. */
async function storedCertificates(s: Settings): Promise<PlatformCertificate[]> {
  if (!s.wechatpay.platformCertificates) return [];
  const now = Date.now();
  const table = s.notificationsTable;
  if (
    !platformCache ||
    platformCache.table !== table ||
    now - platformCache.readAt >= s.parametersMaxAge * 1000
  ) {
    const certificates = platformKeyStore(s)
      .load()
      .then((set) => set?.certificates ?? []);
    platformCache = { table, readAt: now, certificates };
    // A failed read is not cached: the next invocation tries again.
    certificates.catch(() => {
      if (platformCache?.certificates === certificates) platformCache = undefined;
    });
  }
  return unexpired(await platformCache.certificates, now);
}

/** WeChat Pay stops waiting for a callback's answer after 5 s; a download inside one must leave time to verify. */
const IN_CALLBACK_DOWNLOAD_MS = 2000;

/**
 * Downloads (verifying by bootstrap) and stores the certificates, and serves them to this container at once.
 * `inCallback`: one short attempt, since a callback is waiting; otherwise the client's timeout and retries.
 */
async function refreshCertificates(
  s: Settings,
  keys: Keys,
  inCallback: boolean,
  signer: Signer,
): Promise<PlatformCertificateSet> {
  const timeoutMs = inCallback
    ? Math.min(s.wechatpay.timeoutMs, IN_CALLBACK_DOWNLOAD_MS)
    : s.wechatpay.timeoutMs;
  const set = await refreshPlatformCertificates({
    download: () =>
      downloadCertificates({
        client: (verifier) => wechatpayClient(s, keys, verifier, signer, timeoutMs),
        apiV3Key: Buffer.from(keys.apiV3Key),
        retry: !inCallback,
      }),
    store: platformKeyStore(s),
    clock: systemClock,
  });
  platformCache = {
    table: s.notificationsTable,
    readAt: Date.now(),
    certificates: Promise.resolve(set.certificates),
  };
  logger.info('platform certificates refreshed', {
    certificates: set.certificates.map(({ serial, not_after }) => ({ serial, not_after })),
  });
  return set;
}

/** Every key a WeChat Pay signature may use: the public key, the next one during a switch, the certificates. */
function verificationKeys(keys: Keys, platform: PlatformCertificate[]): KeyEntry[] {
  return [
    [keys.publicKey.id, keys.publicKey.pem],
    ...(keys.nextPublicKey ? [[keys.nextPublicKey.id, keys.nextPublicKey.pem] as const] : []),
    ...platform.map((c) => [c.serial, c.pem] as const),
  ];
}

function wechatpayClient(
  s: Settings,
  keys: Keys,
  verifier: Verifier,
  signer: Signer,
  timeoutMs = s.wechatpay.timeoutMs,
): WechatPayClient {
  const w = s.wechatpay;
  const publicKey = createPublicKey(keys.publicKey.pem);
  return new WechatPayClient({
    baseUrl: w.baseUrl,
    credentials: {
      mchid: w.mchid,
      serialNo: w.merchantSerialNo,
      signer,
    },
    verifier,
    encryptionKey: { serial: keys.publicKey.id, key: publicKey },
    userAgent: `${pkg.name}/${pkg.version} (node/${process.version})`,
    timeoutMs,
    fetch: timedFetch('WechatPayLatency'),
  });
}

/**
 * A builder of one function's dependencies, rebuilt only when the settings, the key material (rotation through
 * SSM / Secrets Manager) or the stored platform certificates change, otherwise reused across invocations.
 */
function cached<T>(
  needs: { apiV3Key: boolean; platform: boolean },
  build: (settings: Settings, keys: Keys, platform: PlatformCertificate[]) => T,
): (settings?: Settings) => Promise<T> {
  let cache: { fingerprint: string; deps: T } | undefined;
  return async (settings = readSettings()) => {
    const [keys, platform] = await Promise.all([
      loadKeys(settings, needs.apiV3Key),
      needs.platform ? storedCertificates(settings) : [],
    ]);
    const fingerprint = JSON.stringify([settings, keys, platform]);
    if (cache?.fingerprint !== fingerprint) cache = { fingerprint, deps: build(settings, keys, platform) };
    return cache.deps;
  };
}

export const presignDeps = /* @__PURE__ */ cached(
  { apiV3Key: true, platform: true },
  (settings, keys, platform): PresignDeps => ({
    store: new DynamoContractStore(dynamo(), settings.contractsTable),
    wechatpay: wechatpayClient(
      settings,
      keys,
      new Verifier(verificationKeys(keys, platform)),
      merchantSigner(settings),
    ),
    notifyUrl: settings.wechatpay.notifyUrl,
    hashKey: hashKey(keys.apiV3Key),
    clock: systemClock,
  }),
);

/** Query (with sync), terminate and reconcile sign WeChat Pay calls but never touch the APIv3 key. */
export const contractDeps = /* @__PURE__ */ cached(
  { apiV3Key: false, platform: true },
  (settings, keys, platform): SyncDeps & TerminateDeps => ({
    store: new DynamoContractStore(dynamo(), settings.contractsTable),
    wechatpay: wechatpayClient(
      settings,
      keys,
      new Verifier(verificationKeys(keys, platform)),
      merchantSigner(settings),
    ),
    clock: systemClock,
  }),
);

export interface NotifyDeps extends ApplyNotificationDeps {
  verifier: RefreshingVerifier;
  apiV3Key: Buffer;
}

/**
 * The callback path verifies and decrypts. Only in certificate mode may it sign, and at most once a minute: the
 * download of the platform certificates when a callback names a serial it does not know.
 */
export const notifyDeps = /* @__PURE__ */ cached(
  { apiV3Key: true, platform: true },
  (settings, keys, platform): NotifyDeps => ({
    verifier: new RefreshingVerifier(verificationKeys(keys, platform), {
      ...(settings.wechatpay.platformCertificates
        ? {
            refresh: async () =>
              verificationKeys(
                keys,
                (await refreshCertificates(settings, keys, true, merchantSigner(settings))).certificates,
              ),
          }
        : {}),
      onRefreshFailed: (error, serial) =>
        logger.warn('platform certificate refresh failed', { serial, error }),
    }),
    apiV3Key: Buffer.from(keys.apiV3Key),
    contracts: new DynamoContractStore(dynamo('callback'), settings.contractsTable),
    notifications: new DynamoNotificationStore(
      dynamo('callback'),
      settings.notificationsTable,
      settings.contractsTable,
    ),
    clock: systemClock,
  }),
);

export interface CertificateDeps {
  refresh(): Promise<PlatformCertificateSet>;
}

const certificateRefresher = /* @__PURE__ */ cached(
  { apiV3Key: true, platform: false },
  (settings, keys): CertificateDeps => ({
    refresh: () => refreshCertificates(settings, keys, false, merchantSigner(settings)),
  }),
);

/** The scheduled certificate download's dependencies; undefined when certificate mode is disabled. */
export async function certificateDeps(settings = readSettings()): Promise<CertificateDeps | undefined> {
  return settings.wechatpay.platformCertificates ? certificateRefresher(settings) : undefined;
}

export interface PublishDeps {
  publisher: EventPublisher;
}

let publishCache: { bus: string | undefined; deps: PublishDeps } | undefined;

/** The outbox publisher needs only the bus: with EVENT_BUS_NAME unset, events are logged, not published. */
export function publishDeps(env: NodeJS.ProcessEnv = process.env): PublishDeps {
  const bus = env.EVENT_BUS_NAME?.trim() || undefined;
  if (publishCache?.bus !== bus || !publishCache) {
    const publisher = bus
      ? new EventBridgePublisher(
          tracer.captureAWSv3Client(timed(new EventBridgeClient(awsClientConfig), 'EventBridgeLatency')),
          bus,
        )
      : new LogPublisher();
    publishCache = { bus, deps: { publisher } };
  }
  return publishCache.deps;
}
