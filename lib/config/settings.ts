import type { SubMerchantField } from '../contracts/presign-request';
import { ifSet, Reader } from './reader';

/**
 * The environment, parsed and validated: the only code that reads configuration variables (README
 * "Configuration"). Pure: every reader takes the environment as an argument. Settings are read per concern, so
 * a function asks only for what it uses (the outbox publisher needs the bus, not the WeChat Pay merchant).
 */
export interface WechatPaySettings {
  baseUrl: string;
  mchid: string;
  merchantSerialNo: string;
  signingKeyId: string;
  publicKeyId: string;
  /** PEM text, or the name of the SSM parameter that holds it (deployed). */
  publicKey: string;
  /** The SHA-256 fingerprint (lower-case hex) the loaded public key must have; unset: not pinned. */
  publicKeySha256?: string;
  /** During a WeChat Pay public key switch: the next key's id, its PEM text or SSM parameter name, its pin. */
  nextPublicKey?: { id: string; key: string; sha256?: string };
  /** Certificate mode (WECHATPAY_PLATFORM_CERTIFICATES=enabled): platform certificates verify too. */
  platformCertificates: boolean;
  /** The 32-byte key itself, or the ARN of the Secrets Manager secret that holds it (deployed). */
  apiV3Key: string;
  notifyUrl: string;
  timeoutMs: number;
}

/** What the functions that talk to WeChat Pay (presign, notify, contracts, reconcile, certificates) need. */
export interface Settings {
  wechatpay: WechatPaySettings;
  contractsTable: string;
  notificationsTable: string;
  /** KEY_MATERIAL_MAX_AGE_S: seconds a value read from SSM, Secrets Manager or the stored certificates is reused. */
  keyMaterialMaxAge: number;
  /** RECONCILE_SIGNED_INTERVAL_S, in ms: how often reconcile asks WeChat Pay again about a SIGNED contract. */
  signedRecheckMs: number;
}

/** What only the presign function needs. */
export interface PresignSettings {
  /** PRESIGN_TIMEOUT_S: the presign function's own Lambda timeout (seconds), which its claims' lease outlasts. */
  timeoutS: number;
  /**
   * REQUEST_HASH_KEY: the key of the request hash (at least 32 bytes), or the ARN of the Secrets Manager secret
   * holding it (deployed). Its own key, never the APIv3 key: resetting that one must not break replays, and
   * whoever holds it must not be able to test ID numbers against stored hashes.
   */
  requestHashKey: string;
  /**
   * REQUEST_HASH_KEY_PREVIOUS, during a rotation: the previous key (or its secret's ARN), or `AWSPREVIOUS`, the
   * REQUEST_HASH_KEY secret's previous version. Hashes under it still count as the same request.
   */
  requestHashKeyPrevious?: string;
  /** WECHATPAY_APP_SUB_MCHID_FIELD: the APP presign's wire name of the sub-merchant id (see SubMerchantField). */
  appSubMerchantField: SubMerchantField;
}

const SUB_MERCHANT_FIELDS: readonly SubMerchantField[] = ['sub_mchid', 'sub_merchant_code'];

/** WECHATPAY_APP_SUB_MCHID_FIELD alone: what the local stack also tells its simulator to accept. */
export function readAppSubMerchantField(env: NodeJS.ProcessEnv): SubMerchantField {
  const r = new Reader(env);
  const field = appSubMerchantField(r);
  r.checkInvalid();
  return field;
}

function appSubMerchantField(r: Reader): SubMerchantField {
  const value = r.optional('WECHATPAY_APP_SUB_MCHID_FIELD') ?? 'sub_mchid';
  if ((SUB_MERCHANT_FIELDS as readonly string[]).includes(value)) return value as SubMerchantField;
  r.invalid(
    `WECHATPAY_APP_SUB_MCHID_FIELD is ${JSON.stringify(value)}, not ${SUB_MERCHANT_FIELDS.join(' or ')}`,
  );
  return 'sub_mchid';
}

/** What the outbox publisher and its sweep need. */
export interface EventSettings {
  /** Unset: events are logged, not published. */
  eventBusName?: string;
  /** Where the outbox entries live. */
  contractsTable: string;
}

export function readSettings(env: NodeJS.ProcessEnv): Settings {
  const r = new Reader(env);
  const settings: Settings = {
    wechatpay: {
      baseUrl: r.optional('WECHATPAY_BASE_URL') ?? 'https://api.mch.weixin.qq.com',
      mchid: r.required('WECHATPAY_MCHID'),
      merchantSerialNo: r.required('WECHATPAY_MERCHANT_SERIAL_NO'),
      signingKeyId: r.optional('WECHATPAY_SIGNING_KEY_ID') ?? 'alias/wechatpay-merchant',
      publicKeyId: r.required('WECHATPAY_PUBLIC_KEY_ID'),
      publicKey: r.required('WECHATPAY_PUBLIC_KEY'),
      ...ifSet('publicKeySha256', fingerprintSetting(r, 'WECHATPAY_PUBLIC_KEY_SHA256')),
      ...nextPublicKey(r),
      platformCertificates: platformMode(r),
      apiV3Key: r.required('WECHATPAY_APIV3_KEY'),
      notifyUrl: r.required('WECHATPAY_NOTIFY_URL'),
      timeoutMs: r.positive('WECHATPAY_TIMEOUT_MS', 5000),
    },
    contractsTable: r.required('CONTRACTS_TABLE'),
    notificationsTable: r.required('NOTIFICATIONS_TABLE'),
    keyMaterialMaxAge: keyMaterialMaxAge(r),
    signedRecheckMs: r.positive('RECONCILE_SIGNED_INTERVAL_S', 86_400) * 1000,
  };
  r.checkMissing();
  const { publicKeyId } = settings.wechatpay;
  if (settings.wechatpay.nextPublicKey?.id === publicKeyId) {
    r.invalid(`WECHATPAY_PUBLIC_KEY_NEXT_ID repeats WECHATPAY_PUBLIC_KEY_ID ${publicKeyId}`);
  }
  r.checkInvalid();
  return settings;
}

export function readPresignSettings(env: NodeJS.ProcessEnv): PresignSettings {
  const r = new Reader(env);
  const settings: PresignSettings = {
    timeoutS: r.positive('PRESIGN_TIMEOUT_S', 29),
    requestHashKey: r.required('REQUEST_HASH_KEY'),
    ...ifSet('requestHashKeyPrevious', r.optional('REQUEST_HASH_KEY_PREVIOUS')),
    appSubMerchantField: appSubMerchantField(r),
  };
  r.checkMissing();
  if (settings.requestHashKeyPrevious === settings.requestHashKey) {
    r.invalid('REQUEST_HASH_KEY_PREVIOUS repeats REQUEST_HASH_KEY (a rotation needs a new key)');
  }
  r.checkInvalid();
  return settings;
}

/** Where the AWS Parameters and Secrets Lambda Extension answers, and the token it serves (docs/deploy.md). */
export interface ExtensionSettings {
  /** PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: the extension's own setting, so both ends agree (2773). */
  port: number;
  /** AWS_SESSION_TOKEN, which Lambda sets: the extension answers only requests that carry it. */
  token?: string;
}

export function readExtensionSettings(env: NodeJS.ProcessEnv): ExtensionSettings {
  const r = new Reader(env);
  const port = r.positive('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', 2773);
  if (port > 65_535) r.invalid(`PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=${port} is not a port (1-65535)`);
  r.checkInvalid();
  return { port, ...ifSet('token', r.optional('AWS_SESSION_TOKEN')) };
}

/**
 * KEY_MATERIAL_MAX_AGE_S (300 s); POWERTOOLS_PARAMETERS_MAX_AGE, its name while Powertools Parameters read the keys,
 * is still accepted alone. The extension's own cache is held to the same age (serverless.yml).
 */
function keyMaterialMaxAge(r: Reader): number {
  const current = r.positive('KEY_MATERIAL_MAX_AGE_S', 300);
  if (!r.optional('POWERTOOLS_PARAMETERS_MAX_AGE')) return current;
  const former = r.positive('POWERTOOLS_PARAMETERS_MAX_AGE', 300);
  if (!r.optional('KEY_MATERIAL_MAX_AGE_S')) return former;
  if (former !== current) {
    r.invalid(
      `POWERTOOLS_PARAMETERS_MAX_AGE=${former} contradicts KEY_MATERIAL_MAX_AGE_S=${current} (the former name of it)`,
    );
  }
  return current;
}

export function readEventSettings(env: NodeJS.ProcessEnv): EventSettings {
  const r = new Reader(env);
  const settings = {
    ...ifSet('eventBusName', r.optional('EVENT_BUS_NAME')),
    contractsTable: r.required('CONTRACTS_TABLE'),
  };
  r.checkMissing();
  return settings;
}

/** STAGE: the deployment stage, a dimension of every metric (so that dev and prod never share a graph). */
export function readStage(env: NodeJS.ProcessEnv): string {
  return new Reader(env).optional('STAGE') ?? 'local';
}

/**
 * WECHATPAY_PUBLIC_KEY_NEXT_ID / WECHATPAY_PUBLIC_KEY_NEXT: a second WeChat Pay public key that verifies (never
 * encrypts), so that a key switch fails no verification. Two named slots rather than a list keep each id next to
 * its PEM, and let promotion swap them in one deploy (runbook: docs/deploy.md, section 9; run during traffic by
 * test/integration/functions/key-modes.test.ts). The two fingerprints, when pinned, move with their keys.
 */
function nextPublicKey(r: Reader): Pick<WechatPaySettings, 'nextPublicKey'> {
  const id = r.optional('WECHATPAY_PUBLIC_KEY_NEXT_ID');
  const key = r.optional('WECHATPAY_PUBLIC_KEY_NEXT');
  const sha256 = fingerprintSetting(r, 'WECHATPAY_PUBLIC_KEY_NEXT_SHA256');
  if (id && key) return { nextPublicKey: { id, key, ...ifSet('sha256', sha256) } };
  if (id || key) {
    const [set, unset] = id
      ? ['WECHATPAY_PUBLIC_KEY_NEXT_ID', 'WECHATPAY_PUBLIC_KEY_NEXT']
      : ['WECHATPAY_PUBLIC_KEY_NEXT', 'WECHATPAY_PUBLIC_KEY_NEXT_ID'];
    r.invalid(`${set} is set but ${unset} is not (a key switch needs both)`);
  } else if (sha256) {
    r.invalid(
      'WECHATPAY_PUBLIC_KEY_NEXT_SHA256 is set but WECHATPAY_PUBLIC_KEY_NEXT is not (it pins that key)',
    );
  }
  return {};
}

function platformMode(r: Reader): boolean {
  const mode = r.optional('WECHATPAY_PLATFORM_CERTIFICATES') ?? 'disabled';
  if (mode !== 'enabled' && mode !== 'disabled') {
    r.invalid(`WECHATPAY_PLATFORM_CERTIFICATES is ${JSON.stringify(mode)}, not enabled or disabled`);
  }
  return mode === 'enabled';
}

/**
 * An expected public key fingerprint: SHA-256 over the key's DER SubjectPublicKeyInfo, as hex in either case,
 * bytes optionally separated by ':' (what `openssl … -c` prints). Kept as lower-case hex without separators.
 */
function fingerprintSetting(r: Reader, name: string): string | undefined {
  const raw = r.optional(name);
  if (!raw) return undefined;
  const hex = raw.replaceAll(':', '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    r.invalid(`${name}=${raw} is not a SHA-256 fingerprint (64 hex digits, optionally separated by ':')`);
  }
  return hex;
}
