import { createPublicKey, hkdfSync } from 'node:crypto';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoContractStore } from './aws/dynamo-contract-store';
import { DynamoNotificationStore } from './aws/dynamo-notification-store';
import { EventBridgePublisher, LogPublisher } from './aws/eventbridge-publisher';
import { KmsSigner } from './aws/kms-signer';
import type { EventPublisher } from './contracts/events';
import type { ApplyNotificationDeps } from './contracts/notifications';
import type { PresignDeps } from './contracts/presign';
import type { SyncDeps } from './contracts/sync';
import type { TerminateDeps } from './contracts/terminate';
import { tracer } from './observability';
import { WechatPayClient } from './wechatpay/client';
import { systemClock } from './wechatpay/clock';
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
      apiV3Key: required('WECHATPAY_APIV3_KEY'),
      notifyUrl: required('WECHATPAY_NOTIFY_URL'),
      timeoutMs: Number(env.WECHATPAY_TIMEOUT_MS ?? 5000),
    },
    contractsTable: required('CONTRACTS_TABLE'),
    notificationsTable: required('NOTIFICATIONS_TABLE'),
    ...(env.EVENT_BUS_NAME?.trim() ? { eventBusName: env.EVENT_BUS_NAME.trim() } : {}),
    parametersMaxAge: Number(env.POWERTOOLS_PARAMETERS_MAX_AGE ?? 300),
  };
  if (missing.length > 0)
    throw new Error(`missing configuration: ${missing.join(', ')} (see README "Configuration")`);
  return settings;
}

/** Key material, resolved from SSM / Secrets Manager when deployed; Powertools caches it for `parametersMaxAge`. */
interface Keys {
  publicKeyPem: string;
  apiV3Key: string;
}

async function loadKeys(s: Settings, needsApiV3Key: boolean): Promise<Keys> {
  const { publicKey, apiV3Key } = s.wechatpay;
  const maxAge = s.parametersMaxAge;
  const [publicKeyPem, apiV3] = await Promise.all([
    publicKey.startsWith('-----BEGIN') ? publicKey : getParameter(publicKey, { maxAge, decrypt: true }),
    !needsApiV3Key
      ? ''
      : apiV3Key.startsWith('arn:aws:secretsmanager:')
        ? getSecret<string>(apiV3Key, { maxAge })
        : apiV3Key,
  ]);
  if (!publicKeyPem) throw new Error(`WECHATPAY_PUBLIC_KEY: SSM parameter ${publicKey} is empty`);
  if (needsApiV3Key && (typeof apiV3 !== 'string' || Buffer.byteLength(apiV3) !== 32)) {
    throw new Error('WECHATPAY_APIV3_KEY must be the 32-byte APIv3 key (or a secret holding it)');
  }
  return { publicKeyPem, apiV3Key: apiV3 ?? '' };
}

const awsClientConfig = {
  maxAttempts: 3,
  // Fail fast enough to answer API Gateway (29 s) and WeChat Pay callbacks (5 s) with a 503 of our own.
  requestHandler: { requestTimeout: 2000, connectionTimeout: 1000, throwOnRequestTimeout: true },
};

let documentClient: DynamoDBDocumentClient | undefined;
function dynamo(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(
    tracer.captureAWSv3Client(new DynamoDBClient(awsClientConfig)),
    {
      marshallOptions: { removeUndefinedValues: true },
    },
  );
  return documentClient;
}

let kmsClient: KMSClient | undefined;
function kms(): KMSClient {
  kmsClient ??= tracer.captureAWSv3Client(new KMSClient(awsClientConfig));
  return kmsClient;
}

/** A key derived for the request HMAC, so the APIv3 key itself is never used for two purposes. */
function hashKey(apiV3Key: string): Buffer {
  return Buffer.from(hkdfSync('sha256', apiV3Key, '', 'out_contract_code request hash', 32));
}

function wechatpayClient(s: Settings, keys: Keys): WechatPayClient {
  const w = s.wechatpay;
  const publicKey = createPublicKey(keys.publicKeyPem);
  return new WechatPayClient({
    baseUrl: w.baseUrl,
    credentials: {
      mchid: w.mchid,
      serialNo: w.merchantSerialNo,
      signer: new KmsSigner(kms(), w.signingKeyId),
    },
    verifier: new Verifier([[w.publicKeyId, publicKey]]),
    encryptionKey: { serial: w.publicKeyId, key: publicKey },
    timeoutMs: w.timeoutMs,
  });
}

/**
 * A builder of one function's dependencies, rebuilt only when the settings or the key material change
 * (rotation through SSM / Secrets Manager), otherwise reused across invocations.
 */
function cached<T>(
  needsApiV3Key: boolean,
  build: (settings: Settings, keys: Keys) => T,
): (settings?: Settings) => Promise<T> {
  let cache: { fingerprint: string; deps: T } | undefined;
  return async (settings = readSettings()) => {
    const keys = await loadKeys(settings, needsApiV3Key);
    const fingerprint = JSON.stringify([settings, keys]);
    if (cache?.fingerprint !== fingerprint) cache = { fingerprint, deps: build(settings, keys) };
    return cache.deps;
  };
}

export const presignDeps = cached(
  true,
  (settings, keys): PresignDeps => ({
    store: new DynamoContractStore(dynamo(), settings.contractsTable),
    wechatpay: wechatpayClient(settings, keys),
    notifyUrl: settings.wechatpay.notifyUrl,
    hashKey: hashKey(keys.apiV3Key),
    clock: systemClock,
  }),
);

/** Query (with sync), terminate and reconcile sign WeChat Pay calls but never touch the APIv3 key. */
export const contractDeps = cached(false, (settings, keys): SyncDeps & TerminateDeps => ({
  store: new DynamoContractStore(dynamo(), settings.contractsTable),
  wechatpay: wechatpayClient(settings, keys),
  clock: systemClock,
}));

export interface NotifyDeps extends ApplyNotificationDeps {
  verifier: Verifier;
  apiV3Key: Buffer;
}

/** The callback path needs no KMS client at all: it only verifies and decrypts. */
export const notifyDeps = cached(
  true,
  (settings, keys): NotifyDeps => ({
    verifier: new Verifier([[settings.wechatpay.publicKeyId, createPublicKey(keys.publicKeyPem)]]),
    apiV3Key: Buffer.from(keys.apiV3Key),
    contracts: new DynamoContractStore(dynamo(), settings.contractsTable),
    notifications: new DynamoNotificationStore(
      dynamo(),
      settings.notificationsTable,
      settings.contractsTable,
    ),
    clock: systemClock,
  }),
);

export interface PublishDeps {
  publisher: EventPublisher;
}

let publishCache: { bus: string | undefined; deps: PublishDeps } | undefined;

/** The outbox publisher needs only the bus: with EVENT_BUS_NAME unset, events are logged, not published. */
export function publishDeps(env: NodeJS.ProcessEnv = process.env): PublishDeps {
  const bus = env.EVENT_BUS_NAME?.trim() || undefined;
  if (publishCache?.bus !== bus || !publishCache) {
    const publisher = bus
      ? new EventBridgePublisher(tracer.captureAWSv3Client(new EventBridgeClient(awsClientConfig)), bus)
      : new LogPublisher();
    publishCache = { bus, deps: { publisher } };
  }
  return publishCache.deps;
}
