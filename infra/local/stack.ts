/**
 * The whole system on loopback, with no AWS account and no internet: DynamoDB Local, the KMS stand-in,
 * the WeChat Pay simulator, the local API gateway and the Lambda Invoke API running the real handlers, and
 * serverless.yml's schedules, all on one test clock. `npm start` and the end-to-end tests both run this, so
 * what the tests prove is what a developer tries.
 *
 * Every configuration variable (README, "Configuration") that is set is honoured; only what is missing is
 * generated. With WECHATPAY_BASE_URL set, no simulator starts and the service talks to that WeChat Pay v3 peer
 * instead. The key material (APIv3 key, request-hash key, WeChat Pay's public key), given or generated, is served
 * by a local AWS Parameters and Secrets extension and named by secret ARN and parameter name, as deployed: the
 * functions read it through the same code path as in Lambda.
 */
import { createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { handlerFor as publishHandlerFor } from '../../functions/publish';
import { type CommandEvent, isCommandEvent } from '../../lib/commands/outcome';
import { createRuntime } from '../../lib/config/runtime';
import { readAppSubMerchantField } from '../../lib/config/settings';
import type { ContractEvent } from '../../lib/contracts/events';
import type { EventPublisher } from '../../lib/contracts/ports';
import { isRepaymentEvent, type RepaymentEvent, type ServiceEvent } from '../../lib/repayments/events';
import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb';
import { loadFunctions } from './functions';
import { type Extra, type LocalGateway, startGateway } from './gateway';
import { LocalSecrets, randomApiV3Key, randomPublicKeyId, randomRequestHashKey, randomSerial } from './keys';
import { type KmsStandIn, startKmsStandIn } from './kms/server';
import { type LocalLambdaApi, startLambdaApi } from './lambda-api';
import { ClockNotMovable, localRoutes } from './local-routes';
import {
  type LocalParametersExtension,
  localSecretArn,
  startParametersExtension,
} from './parameters-extension';
import { type LocalSchedules, startSchedules } from './schedules';
import { type Simulator, type SimulatorOptions, startSimulator } from './simulator';
import { type LocalSqs, startSqs } from './sqs';
import { type LocalStepFunctions, startStepFunctions } from './step-functions';
import { startStreamPoller } from './stream-poller';
import { createTables, readCloudFormationResources } from './tables';
import { TestClock } from './test-clock';

export interface LocalStackOptions {
  /** Project root (serverless.yml, infra/aws). */
  root?: string;
  host?: string;
  /**
   * 0 = a free port. Defaults: 3000, 3100, 4599, 8000, 3002 for the Lambda Invoke API, 3003 for Step Functions,
   * 3004 for SQS and 2773 for the Parameters and Secrets extension (the extension's own).
   */
  ports?: {
    api?: number;
    simulator?: number;
    kms?: number;
    dynamodb?: number;
    lambda?: number;
    states?: number;
    sqs?: number;
    extension?: number;
  };
  /** Configuration in; what is missing is generated. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where generated keys persist (`.local`); omitted: memory only. */
  dataDir?: string;
  /** Reuse already-running stand-ins (the test runner starts one of each for all test files). */
  endpoints?: { dynamodb?: string; kms?: string };
  /** Suffix for table names so test files sharing one DynamoDB Local never collide. */
  tableSuffix?: string;
  simulator?: Partial<SimulatorOptions>;
  /** Extra gateway routes (demo page, OpenAPI document). */
  extra?: Extra;
  /** Where events go; default: kept in `LocalStack.events` (there is no EventBridge locally). */
  publisher?: EventPublisher<ServiceEvent | CommandEvent>;
  /**
   * How much faster than the test clock serverless.yml's schedules run (10: rate(5 minutes) every 30 s).
   * 0 or omitted: they run only on demand, so a test's records never meet a reconcile it did not ask for.
   */
  scheduleSpeedup?: number;
  log?: (part: string, line: string) => void;
}

export interface LocalStack {
  api: LocalGateway;
  /** AWS Lambda's Invoke API for every function of serverless.yml. */
  lambda: LocalLambdaApi;
  /** Step Functions' StartExecution and DescribeExecution, running infra/aws's state machines. */
  stepFunctions: LocalStepFunctions;
  /** SQS's ChangeMessageVisibility, recording when the commands router would have a message come back. */
  sqs: LocalSqs;
  /** The stack's test clock, to read (also `GET /local/clock` on the API). */
  clock: Pick<TestClock, 'now' | 'offsetSeconds'>;
  /**
   * Moves the test clock forward and the simulator's with it (also `POST /local/clock`): a RangeError for
   * refused seconds, ClockNotMovable with another WeChat Pay peer.
   */
  advanceClock(seconds: number): Promise<void>;
  /** serverless.yml's schedules (also `/local/schedules` on the API). */
  schedules: LocalSchedules;
  simulator?: Simulator;
  kms?: KmsStandIn;
  dynamodb?: DynamoDbLocal;
  /** The Parameters and Secrets extension the functions read their key material from (put-secret-value: `putSecret`). */
  extension: LocalParametersExtension;
  /** The values the secrets and the parameter hold at start (the variables name them, as deployed). */
  keyMaterial: KeyMaterial;
  /** The configuration the handlers run with (also applied to process.env). */
  env: Record<string, string>;
  /** Contract events the outbox published (unless a publisher was given). */
  events: ContractEvent[];
  /** Repayment events (and NotificationUnhandled) the outbox published (unless a publisher was given). */
  repaymentEvents: RepaymentEvent[];
  /** The outcome events of commands the commands router took (unless a publisher was given). */
  commandEvents: CommandEvent[];
  /** Resolves once every committed change so far went through the outbox publisher. */
  drainEvents(): Promise<void>;
  close(): Promise<void>;
}

export interface KeyMaterial {
  apiV3Key: string;
  requestHashKey: string;
  publicKeyPem: string;
}

/** The names serverless.yml gives the secrets and the parameter, for the local stage. */
const NAMES = {
  apiV3Key: 'wechatpay-credit-repayment/local/apiv3-key',
  requestHashKey: 'wechatpay-credit-repayment/local/request-hash-key',
  publicKey: '/wechatpay-credit-repayment/local/wechatpay-public-key',
};

const LOCAL_AWS = {
  AWS_REGION: 'ap-southeast-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  // Never fall back to the instance metadata service (169.254.169.254 is not loopback).
  AWS_EC2_METADATA_DISABLED: 'true',
};

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const root = options.root ?? process.cwd();
  const host = options.host ?? '127.0.0.1';
  const given = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const secrets = new LocalSecrets(options.dataDir);
  const clock = new TestClock();
  // Where every event goes (the publish function's and the outbox sweep's): there is no EventBridge locally.
  const events: ContractEvent[] = [];
  const repaymentEvents: RepaymentEvent[] = [];
  const commandEvents: CommandEvent[] = [];
  const publisher: EventPublisher = options.publisher ?? {
    async publish(batch) {
      // The service's own events, whichever way they came: the outbox's, and the commands router's outcomes.
      for (const e of batch as (ServiceEvent | CommandEvent)[]) {
        if (isCommandEvent(e)) commandEvents.push(e);
        else if (isRepaymentEvent(e)) repaymentEvents.push(e);
        else events.push(e);
        log('events', `${e.type} (${e.detail.event_id})`);
      }
    },
  };
  const runtime = createRuntime({ clock: clock.now, publisher });
  const functions = loadFunctions(root, runtime);
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const env: Record<string, string> = { ...LOCAL_AWS };
    for (const k of Object.keys(LOCAL_AWS)) if (given[k]) env[k] = given[k] as string;

    const [dynamodb, kms] = await Promise.all([
      options.endpoints?.dynamodb || given.AWS_ENDPOINT_URL_DYNAMODB
        ? undefined
        : startDynamoDbLocal({ port: options.ports?.dynamodb ?? 8000, log: (l) => log('dynamodb', l) }),
      options.endpoints?.kms || given.AWS_ENDPOINT_URL_KMS
        ? undefined
        : startKmsStandIn({
            host,
            port: options.ports?.kms ?? 4599,
            ...(options.dataDir ? { dataDir: join(options.dataDir, 'kms') } : {}),
          }),
    ]);
    if (dynamodb) closers.push(() => dynamodb.stop());
    if (kms) closers.push(() => kms.close());
    env.AWS_ENDPOINT_URL_DYNAMODB = (options.endpoints?.dynamodb ??
      given.AWS_ENDPOINT_URL_DYNAMODB ??
      dynamodb?.endpoint) as string;
    env.AWS_ENDPOINT_URL_KMS = (options.endpoints?.kms ?? given.AWS_ENDPOINT_URL_KMS ?? kms?.url) as string;
    log('aws', `DynamoDB ${env.AWS_ENDPOINT_URL_DYNAMODB}, KMS ${env.AWS_ENDPOINT_URL_KMS}`);

    const awsConfig = {
      region: env.AWS_REGION as string,
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID as string,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
      },
    };
    const suffix = options.tableSuffix ? `-${options.tableSuffix}` : '';
    env.CONTRACTS_TABLE = given.CONTRACTS_TABLE || `wechatpay-credit-repayment-local-contracts${suffix}`;
    env.NOTIFICATIONS_TABLE =
      given.NOTIFICATIONS_TABLE || `wechatpay-credit-repayment-local-notifications${suffix}`;
    env.REPAYMENTS_TABLE = given.REPAYMENTS_TABLE || `wechatpay-credit-repayment-local-repayments${suffix}`;
    const ddb = new DynamoDBClient({ ...awsConfig, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB });
    // The same resource definitions serverless.yml deploys, so local tables equal deployed ones.
    await createTables(ddb, readCloudFormationResources(join(root, 'infra/aws/tables.yml')), {
      ContractsTable: env.CONTRACTS_TABLE,
      NotificationsTable: env.NOTIFICATIONS_TABLE,
      RepaymentsTable: env.REPAYMENTS_TABLE,
    });
    ddb.destroy();

    // The stand-in for the stream event source mappings: the real publish handler runs on every change.
    const publish = publishHandlerFor(runtime);
    const pollers = await Promise.all(
      [env.CONTRACTS_TABLE, env.REPAYMENTS_TABLE].map((tableName) =>
        startStreamPoller({
          endpoint: env.AWS_ENDPOINT_URL_DYNAMODB as string,
          tableName,
          handler: publish,
          log: (l) => log('events', l),
        }),
      ),
    );
    for (const poller of pollers) closers.push(() => poller.stop());

    env.WECHATPAY_MCHID = given.WECHATPAY_MCHID || secrets.text('mchid', () => '1900000109');
    env.WECHATPAY_MERCHANT_SERIAL_NO =
      given.WECHATPAY_MERCHANT_SERIAL_NO || secrets.text('merchant-serial', randomSerial);
    env.WECHATPAY_SIGNING_KEY_ID = given.WECHATPAY_SIGNING_KEY_ID || 'alias/wechatpay-merchant';
    const apiV3Key = given.WECHATPAY_APIV3_KEY || secrets.text('apiv3-key', randomApiV3Key);
    const requestHashKey = given.REQUEST_HASH_KEY || secrets.text('request-hash-key', randomRequestHashKey);
    const extension = await startParametersExtension({
      host,
      port: options.ports?.extension ?? 2773,
      log: (l) => log('secrets', l),
    });
    closers.push(() => extension.close());
    env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(extension.port);
    env.AWS_SESSION_TOKEN = extension.token;
    env.WECHATPAY_APIV3_KEY = localSecretArn(NAMES.apiV3Key);
    env.REQUEST_HASH_KEY = localSecretArn(NAMES.requestHashKey);
    extension.putSecret(env.WECHATPAY_APIV3_KEY, apiV3Key);
    extension.putSecret(env.REQUEST_HASH_KEY, requestHashKey);
    env.WECHATPAY_PUBLIC_KEY = NAMES.publicKey;

    let simulator: Simulator | undefined;
    let schedules: LocalSchedules | undefined;
    const advanceClock = async (seconds: number) => {
      if (!simulator) throw new ClockNotMovable();
      // The functions and the simulator both run on this clock: one advance moves the whole stack's time.
      clock.advance(seconds);
    };
    const local = localRoutes({
      clock,
      events: () => [...events, ...repaymentEvents, ...commandEvents],
      schedules: () => schedules,
      advance: advanceClock,
    });
    const extra = options.extra;
    const api = await startGateway({
      functions,
      host,
      port: options.ports?.api ?? 3000,
      extra: async (req, res, body) =>
        (await local(req, res, body)) || (extra ? extra(req, res, body) : false),
      log: (l) => log('api', l),
    });
    closers.push(() => api.close());
    const lambda = await startLambdaApi({
      functions,
      region: awsConfig.region,
      host,
      port: options.ports?.lambda ?? 3002,
      log: (l) => log('lambda', l),
    });
    closers.push(() => lambda.close());
    // The commands router invokes the functions that own its commands here, by their deployed names.
    env.AWS_ENDPOINT_URL_LAMBDA = lambda.url;
    env.COMMAND_FUNCTION_PREFIX = given.COMMAND_FUNCTION_PREFIX || `${functions.service}-local-`;
    const stepFunctions = await startStepFunctions({
      root,
      functions,
      region: awsConfig.region,
      host,
      port: options.ports?.states ?? 3003,
      log: (l) => log('states', l),
    });
    closers.push(() => stepFunctions.close());
    env.AWS_ENDPOINT_URL_SFN = stepFunctions.url;
    // Where the commands router sets the visibility of the messages it leaves on the queue.
    const sqs = await startSqs({ host, port: options.ports?.sqs ?? 3004, log: (l) => log('sqs', l) });
    closers.push(() => sqs.close());
    env.AWS_ENDPOINT_URL_SQS = sqs.url;
    const repaymentDay = stepFunctions.machines.find((m) => m.logicalId === 'RepaymentDayStateMachine');
    if (repaymentDay) env.REPAYMENT_DAY_STATE_MACHINE_ARN = repaymentDay.arn;
    env.WECHATPAY_NOTIFY_URL = given.WECHATPAY_NOTIFY_URL || `${api.url}/wechatpay/notifications`;

    let publicKeyPem: string;
    if (given.WECHATPAY_BASE_URL) {
      env.WECHATPAY_BASE_URL = given.WECHATPAY_BASE_URL;
      const [id, pem] = (['WECHATPAY_PUBLIC_KEY_ID', 'WECHATPAY_PUBLIC_KEY'] as const).map((name) => {
        const value = given[name];
        if (!value)
          throw new Error(`${name} is required when WECHATPAY_BASE_URL points at another WeChat Pay peer`);
        return value;
      }) as [string, string];
      env.WECHATPAY_PUBLIC_KEY_ID = id;
      publicKeyPem = pem;
    } else {
      const kmsClient = new KMSClient({ ...awsConfig, endpoint: env.AWS_ENDPOINT_URL_KMS });
      const keyId = env.WECHATPAY_SIGNING_KEY_ID;
      simulator = await startSimulator({
        host,
        port: options.ports?.simulator ?? 3100,
        mchid: env.WECHATPAY_MCHID,
        merchantSerialNo: env.WECHATPAY_MERCHANT_SERIAL_NO,
        // The simulator knows the merchant key the way WeChat Pay does: only its public half, from KMS.
        merchantPublicKey: async () => {
          const { PublicKey } = await kmsClient.send(new GetPublicKeyCommand({ KeyId: keyId }));
          if (!PublicKey) throw new Error(`KMS returned no public key for ${keyId}`);
          return createPublicKey({ key: Buffer.from(PublicKey), format: 'der', type: 'spki' });
        },
        apiV3Key: Buffer.from(apiV3Key),
        publicKey: {
          id: given.WECHATPAY_PUBLIC_KEY_ID || secrets.text('wechatpay-public-key-id', randomPublicKeyId),
          privateKey: secrets.rsaKey('wechatpay-platform-key.pem'),
        },
        // WeChat Pay sends TERMINATE_CONTRACT to the plan template's URL, which the operator sets to our route.
        terminateNotifyUrl: given.SIMULATOR_TERMINATE_NOTIFY_URL || env.WECHATPAY_NOTIFY_URL,
        clock: functions.clock,
        // The simulator accepts only the APP sub-merchant field name the service is configured to send.
        appSubMerchantField: readAppSubMerchantField(given),
        log: (l) => log('wechatpay', l),
        ...options.simulator,
      });
      closers.push(async () => {
        await simulator?.close();
        kmsClient.destroy();
      });
      const platform = simulator.wechatpayPublicKey();
      env.WECHATPAY_BASE_URL = simulator.url;
      env.WECHATPAY_PUBLIC_KEY_ID = platform.id;
      publicKeyPem = platform.pem;
    }
    extension.putParameter(NAMES.publicKey, publicKeyPem);
    for (const name of [
      'EVENT_BUS_NAME',
      'WECHATPAY_TIMEOUT_MS',
      'REQUEST_HASH_KEY_PREVIOUS',
      'WECHATPAY_APP_SUB_MCHID_FIELD',
      'SIGNING_BUDGET_RPS',
      'REPAYMENT_DAY_WORKERS',
      'COMMAND_MAX_RECEIVE_COUNT',
    ] as const) {
      if (given[name]) env[name] = given[name] as string;
    }
    // As serverless.yml deploys it: presign's own timeout, the one its local Lambda context counts down from.
    const presignTimeoutMs = functions.find('presign')?.timeoutMs;
    const presignTimeout = presignTimeoutMs === undefined ? undefined : String(presignTimeoutMs / 1000);
    const timeoutS = given.PRESIGN_TIMEOUT_S || presignTimeout;
    if (timeoutS) env.PRESIGN_TIMEOUT_S = timeoutS;
    Object.assign(process.env, env);
    // Last: a schedule may fire at once, and its function needs the whole configuration.
    schedules = startSchedules({
      functions,
      clock,
      speedup: options.scheduleSpeedup ?? 0,
      region: awsConfig.region,
      log: (l) => log('schedule', l),
    });
    closers.push(async () => schedules?.close());
    return {
      api,
      lambda,
      stepFunctions,
      sqs,
      clock,
      advanceClock,
      schedules,
      ...(simulator ? { simulator } : {}),
      ...(kms ? { kms } : {}),
      ...(dynamodb ? { dynamodb } : {}),
      extension,
      keyMaterial: { apiV3Key, requestHashKey, publicKeyPem },
      env,
      events,
      repaymentEvents,
      commandEvents,
      drainEvents: async () => {
        await Promise.all(pollers.map((poller) => poller.drain()));
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
