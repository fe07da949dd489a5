import type { Schedule } from '../aws/contract-queue';
import { DynamoContractStore } from '../aws/dynamo-contract-store';
import { DynamoNotificationStore } from '../aws/dynamo-notification-store';
import { DynamoOutbox } from '../aws/dynamo-outbox';
import { DynamoRepaymentNotificationStore } from '../aws/dynamo-repayment-notification-store';
import { DynamoRepaymentStore } from '../aws/dynamo-repayment-store';
import { dynamoDocumentClient } from '../aws/dynamodb-client';
import { parametersExtension } from '../aws/parameters-extension';
import type { ApplyNotificationDeps } from '../contracts/notifications';
import type { PlatformCertificateSet } from '../contracts/ports';
import type { PresignDeps } from '../contracts/presign';
import { firstCheckAt, type RecheckPolicy } from '../contracts/recheck';
import type { SyncDeps } from '../contracts/sync';
import type { TerminateDeps } from '../contracts/terminate';
import type { Wiring } from '../http/lambda';
import { logger } from '../observability';
import type { KeptNotificationsDeps } from '../repayments/kept';
import type { ApplyDeductionPayDeps } from '../repayments/notifications';
import type { PlatformCertificate } from '../wechatpay/certificates';
import type { WechatPayClient } from '../wechatpay/client';
import type { Clock } from '../wechatpay/clock';
import { RefreshingVerifier } from '../wechatpay/refreshing-verifier';
import { Verifier } from '../wechatpay/verifier';
import { Cached } from './cache';
import { eventDeps, type PublishDeps } from './publish-deps';
import { readWithRepayments, type WithRepayments } from './repayment-settings';
import { loadRequestHashKeys, type RequestHashKeys } from './request-hash-keys';
import { processRuntime, type Runtime, wire } from './runtime';
import { type Keys, loadKeys } from './secrets';
import {
  type PresignSettings,
  readExtensionSettings,
  readPresignSettings,
  readSettings,
  type Settings,
} from './settings';
import { refreshCertificates, storedCertificates, verificationKeys, wechatpayClient } from './wechatpay';

/**
 * The builders of each function's dependencies. Each reads the settings on every invocation and returns the same
 * object until the settings, the key material (rotated through SSM / Secrets Manager) or the stored platform
 * certificates change (one cache policy: see Cached). Every builder takes the runtime it builds from, whose clock
 * becomes every dependency's clock.
 */

export interface Inputs<S extends Settings = Settings> {
  settings: S;
  keys: Keys;
  platform: PlatformCertificate[];
}

/** The `build` of one function family, rebuilt only when its inputs change. */
export function builder<D, S extends Settings = Settings>(
  runtime: Runtime,
  needs: { apiV3Key: boolean; platform: boolean },
  build: (inputs: Inputs<S>) => D,
): (settings: S) => Promise<D> {
  const withOwn = builderWithOwn<D, S, undefined>(runtime, needs, build);
  return (settings) => withOwn(settings, Promise.resolve(undefined));
}

/**
 * The same for a family that reads key material of its own (presign's request-hash keys): `own` is read while the
 * shared key material is, so that a cold start waits for one round trip to the extension, not one after another.
 */
function builderWithOwn<D, S extends Settings, O>(
  runtime: Runtime,
  needs: { apiV3Key: boolean; platform: boolean },
  build: (inputs: Inputs<S> & { own: O }) => D,
): (settings: S, own: Promise<O>) => Promise<D> {
  const built = new Cached<D>(runtime.clock);
  return async (settings, pending) => {
    const [keys, platform, own] = await Promise.all([
      loadKeys(settings, needs.apiV3Key, runtime.keys, keyStore(runtime)),
      needs.platform ? storedCertificates(runtime, settings) : [],
      pending,
    ]);
    const inputs = { settings, keys, platform, own };
    return built.get(JSON.stringify(inputs), Number.POSITIVE_INFINITY, () => build(inputs));
  };
}

/** The Parameters and Secrets extension, as this invocation's environment says where it is. */
const keyStore = (runtime: Runtime) => parametersExtension(readExtensionSettings(runtime.env));

/** Reconcile's policy, and where every contract write places the record in its queue. */
function recheckOf(settings: Settings): { recheck: RecheckPolicy; schedule: Schedule } {
  const recheck = { signedIntervalMs: settings.signedRecheckMs };
  return { recheck, schedule: (record) => firstCheckAt(record, recheck) };
}

/** What every function that calls WeChat Pay's contract API holds: the store, a verifying client, the clock. */
export function contractParts(runtime: Runtime, { settings, keys, platform }: Inputs): ContractDeps {
  const verifier = new Verifier(verificationKeys(keys, platform), { clock: runtime.clock });
  const { recheck, schedule } = recheckOf(settings);
  return {
    store: new DynamoContractStore(dynamoDocumentClient(), settings.contractsTable, schedule),
    wechatpay: wechatpayClient(runtime, settings, keys, verifier),
    clock: runtime.clock,
    recheck,
  };
}

/**
 * Lambda kills a presign at its timeout, so a claim whose last write is older than that (plus the clock
 * difference two Lambda hosts may have) belongs to an attempt that died: an identical retry may take it over.
 */
const CLOCK_DIFFERENCE_MS = 10_000;

export function presignDeps(runtime: Runtime = processRuntime): Wiring<PresignDeps> {
  // The request hash has its own key: presign never reads the APIv3 key.
  const build = builderWithOwn<PresignDeps, PresignInputs, RequestHashKeys>(
    runtime,
    { apiV3Key: false, platform: true },
    (inputs) => ({
      ...contractParts(runtime, inputs),
      notifyUrl: inputs.settings.wechatpay.notifyUrl,
      hashKeys: inputs.own,
      appSubMerchantField: inputs.settings.presign.appSubMerchantField,
      claimLeaseMs: inputs.settings.presign.timeoutS * 1000 + CLOCK_DIFFERENCE_MS,
    }),
  );
  return wire(runtime, async () => {
    const settings = readSettings(runtime.env);
    const presign = readPresignSettings(runtime.env);
    const maxAgeMs = settings.keyMaterialMaxAge * 1000;
    // Not awaited here: `build` reads WeChat Pay's public key while this reads the request-hash key.
    const hashKeys = loadRequestHashKeys(presign, maxAgeMs, runtime.keys, keyStore(runtime));
    return build({ ...settings, presign }, hashKeys);
  });
}

/** Presign's own settings, on top of what every WeChat Pay function reads. */
type PresignInputs = Settings & { presign: PresignSettings };

export type ContractDeps = SyncDeps & TerminateDeps & { wechatpay: WechatPayClient; recheck: RecheckPolicy };

/** Query (with sync), terminate and reconcile sign WeChat Pay calls but never touch the APIv3 key. */
export function contractDeps(runtime: Runtime = processRuntime): Wiring<ContractDeps> {
  const build = builder(runtime, { apiV3Key: false, platform: true }, (inputs) =>
    contractParts(runtime, inputs),
  );
  return wire(runtime, async () => build(readSettings(runtime.env)));
}

export interface NotifyDeps extends ApplyNotificationDeps {
  verifier: RefreshingVerifier;
  apiV3Key: Buffer;
  /** DEDUCTION_PAY goes to the repayments table, its id to the notifications table with every other callback. */
  repayments: ApplyDeductionPayDeps;
}

/**
 * The callback path verifies and decrypts. Only in certificate mode may it sign, and at most once a minute: the
 * download of the platform certificates when a callback names a serial it does not know.
 */
export function notifyDeps(runtime: Runtime = processRuntime): Wiring<NotifyDeps> {
  const needs = { apiV3Key: true, platform: true };
  const build = builder<NotifyDeps, WithRepayments>(runtime, needs, ({ settings, keys, platform }) => ({
    verifier: new RefreshingVerifier(verificationKeys(keys, platform), {
      ...(settings.wechatpay.platformCertificates
        ? {
            refresh: async () =>
              verificationKeys(keys, (await refreshCertificates(runtime, settings, keys, true)).certificates),
          }
        : {}),
      onRefreshFailed: (error, serial) =>
        logger.warn('platform certificate refresh failed', { serial, error }),
      clock: runtime.clock,
    }),
    apiV3Key: Buffer.from(keys.apiV3Key),
    contracts: new DynamoContractStore(
      dynamoDocumentClient('callback'),
      settings.contractsTable,
      recheckOf(settings).schedule,
    ),
    notifications: new DynamoNotificationStore(
      dynamoDocumentClient('callback'),
      settings.notificationsTable,
      settings.contractsTable,
      recheckOf(settings).schedule,
    ),
    repayments: {
      store: new DynamoRepaymentStore(dynamoDocumentClient('callback'), settings.repayments.table),
      notifications: new DynamoRepaymentNotificationStore(
        dynamoDocumentClient('callback'),
        settings.notificationsTable,
        settings.repayments.table,
      ),
      clock: runtime.clock,
    },
    clock: runtime.clock,
  }));
  return wire(runtime, async () => build(readWithRepayments(runtime.env)));
}

/**
 * The operator's notifications function: the kept notifications of both tables, the contracts and bookings they
 * move, the APIv3 key to decrypt them.
 */
export function unhandledDeps(runtime: Runtime = processRuntime): Wiring<KeptNotificationsDeps> {
  const build = builder<KeptNotificationsDeps, WithRepayments>(
    runtime,
    { apiV3Key: true, platform: false },
    ({ settings, keys }) => {
      const { schedule } = recheckOf(settings);
      const apiV3Key = Buffer.from(keys.apiV3Key);
      return {
        contracts: new DynamoContractStore(dynamoDocumentClient(), settings.contractsTable, schedule),
        notifications: new DynamoNotificationStore(
          dynamoDocumentClient(),
          settings.notificationsTable,
          settings.contractsTable,
          schedule,
        ),
        apiV3Key,
        clock: runtime.clock,
        repayments: {
          store: new DynamoRepaymentStore(dynamoDocumentClient(), settings.repayments.table),
          kept: new DynamoRepaymentNotificationStore(
            dynamoDocumentClient(),
            settings.notificationsTable,
            settings.repayments.table,
          ),
          apiV3Key,
          clock: runtime.clock,
        },
      };
    },
  );
  return wire(runtime, async () => build(readWithRepayments(runtime.env)));
}

export interface CertificateDeps {
  refresh(): Promise<PlatformCertificateSet>;
  clock: Clock;
}

/** The scheduled certificate download's dependencies; undefined when certificate mode is disabled. */
export function certificateDeps(runtime: Runtime = processRuntime): Wiring<CertificateDeps | undefined> {
  const build = builder(runtime, { apiV3Key: true, platform: false }, ({ settings, keys }) => ({
    refresh: () => refreshCertificates(runtime, settings, keys, false),
    clock: runtime.clock,
  }));
  return wire(runtime, async () => {
    const settings = readSettings(runtime.env);
    return settings.wechatpay.platformCertificates ? build(settings) : undefined;
  });
}

/** The outbox sweep reads the outbox on every run: its adapter and client are loaded with the function. */
export function outboxDeps(runtime: Runtime = processRuntime): Wiring<PublishDeps> {
  return eventDeps(runtime, (table) => new DynamoOutbox(dynamoDocumentClient(), table));
}
