/**
 * Phase "presign": what one presign costs us beyond the RSA operations, and whether the claim and the KMS
 * signature really overlap.
 *
 * - overhead: `presign()` with stand-ins that answer instantly and do no RSA (no KMS signature, no OAEP):
 *   validation, the request HMAC, the record, the claim and update in memory, JSON, the answer's parsing.
 * - handler: the same through functions/presign.ts (middy, Powertools, settings and key checks per call).
 * - tracing: the overhead before the handler is loaded, after it (Lambda's active tracing alone: nothing in the
 *   process), then with each in-process tracer the choice was made against: a minimal OpenTelemetry SDK with a
 *   span per presign, then Powertools Tracer's X-Ray SDK (last: its async hooks cannot be removed once loaded).
 * - overlap: the real WechatPayClient and a real presign with injected latencies, against the ideal
 *   max(claim, sign) + WeChat Pay + store.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { sign } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { ContractState } from '../lib/contracts/lifecycle';
import type { ContractRecord } from '../lib/contracts/model';
import type { WechatPayGateway } from '../lib/contracts/ports';
import { type PresignDeps, presign } from '../lib/contracts/presign';
import { WechatPayClient } from '../lib/wechatpay/client';
import { Verifier } from '../lib/wechatpay/verifier';
import { gatewayDouble } from '../test/support/contracts/gateway';
import { MemoryContractStore } from '../test/support/contracts/memory-store';
import { presignTestDeps } from '../test/support/contracts/presign-deps';
import {
  alnum,
  apiV3Key,
  MCHID,
  MERCHANT_SERIAL,
  OAEP_SIZED,
  PUBLIC_KEY_ID,
  presignBody,
  rsaPair,
} from './fixtures';
import { apiEvent, lambdaContext, serviceEnv } from './lambda';
import { compare, median, round } from './measure';
import { TRACING_OPTIONS, type TracingOption } from './tracing-options';

export interface PresignResult {
  /** After functions/presign.ts is loaded: with the tracing chosen (Lambda's own), what a deployed presign costs. */
  overhead_us: number;
  /**
   * Presign's own CPU with each tracing option, each measured in fresh processes (tracing.ts), so that no option
   * inherits another's hooks or the JIT state the others left: what each adds to every request.
   */
  tracing_us: {
    /** No tracer and functions/presign.ts not loaded. */
    before_handler: number;
    /** functions/presign.ts loaded: the tracing chosen (Lambda's own) adds nothing in-process. */
    handler_loaded: number;
    /** A registered NodeTracerProvider (AsyncLocalStorage context manager) and one span around each presign. */
    opentelemetry_span: number;
    /**
     * After Powertools Tracer loaded aws-xray-sdk-core, whose cls-hooked namespace enables async_hooks
     * (init/destroy) for every promise of the process; no segment is even recorded.
     */
    xray_sdk_loaded: number;
  };
  handler_overhead_us: number;
  /** Parts of the handler's extra cost, each alone: what the middy layer spends its time on. */
  handler_parts_us: { deps_per_invocation: number; log_line: number; metrics_flush: number };
  overlap: {
    ratio: number;
    /** Median of the runs. */
    measured_ms: number;
    /** The fastest run: the structure of the critical path with the least scheduling noise. */
    fastest_ms: number;
    ideal_ms: number;
    runs: number;
    latencies_ms: Latencies;
  };
}

interface Latencies {
  kms_sign: number;
  dynamodb_claim: number;
  wechatpay: number;
  dynamodb_store: number;
}

const run$ = promisify(execFile);
const TRACING = join(import.meta.dirname, 'tracing.ts');

const LATENCIES: Latencies = { kms_sign: 50, dynamodb_claim: 20, wechatpay: 100, dynamodb_store: 20 };
const OVERLAP_RUNS = 20;
const WARMUP_RUNS = 2;

const BASE_URL = 'https://api.mch.weixin.qq.com';
const NOTIFY_URL = 'https://api.example.com/wechatpay/notifications';
const ANSWER = JSON.stringify({ redirect_url: 'https://payapp.weixin.qq.com/credit/sign?token=bench' });
const SIGNATURE = Buffer.alloc(256, 1).toString('base64');
const FIXED_AUTHORIZATION =
  `WECHATPAY2-SHA256-RSA2048 mchid="${MCHID}",nonce_str="${'n'.repeat(32)}",signature="${SIGNATURE}",` +
  `timestamp="1700000000",serial_no="${MERCHANT_SERIAL}"`;

/** Signs nothing, sends nothing, encrypts nothing: only our own code runs around it. */
function instantGateway(): WechatPayGateway {
  const headers = new Headers();
  const body = Buffer.from(ANSWER);
  return gatewayDouble({
    async sign(request) {
      const text = JSON.stringify(request.body);
      return {
        request,
        url: BASE_URL + request.path,
        body: text,
        headers: { Authorization: FIXED_AUTHORIZATION },
      };
    },
    async send() {
      return {
        status: 200,
        requestId: 'bench',
        headers,
        body,
        json: <T>() => JSON.parse(body.toString()) as T,
      };
    },
    encrypt: () => OAEP_SIZED,
  });
}

const deps = (store: MemoryContractStore, wechatpay: WechatPayGateway): PresignDeps =>
  presignTestDeps({ store, wechatpay, notifyUrl: NOTIFY_URL, clock: Date.now });

/** One presign on the instant stand-ins: the same body each time, the store emptied first (a first presign). */
export function instantPresign(store = new MemoryContractStore()) {
  const instant = deps(store, instantGateway());
  const body = presignBody();
  return async () => {
    store.items.clear();
    return presign(instant, 'H5', body);
  };
}

export async function run(): Promise<PresignResult> {
  const store = new MemoryContractStore();
  const body = presignBody();
  const once = instantPresign(store);
  const first = await once();
  assert.ok(
    first.stored && !first.replayed && first.result.redirect_url,
    'stand-in presign did not complete',
  );

  const handler = await presignHandler(store);
  const event = apiEvent('POST', '/contracts/h5-presign', JSON.stringify(body));
  const context = lambdaContext('presign');
  const viaHandler = async () => {
    store.items.clear();
    return handler(event, context);
  };
  const answer = (await viaHandler()) as { statusCode?: number; body?: string };
  assert.equal(answer.statusCode, 201, `handler answered ${answer.statusCode}: ${answer.body}`);

  const { presignDeps } = await import('../lib/config/deps');
  const { logger, metrics } = await import('../lib/observability');
  const wiring = presignDeps();
  const times = await compare({
    overhead: once,
    handler: viaHandler,
    deps: () => wiring.load(),
    log: () => logger.info('presign created', { wechatpay_request_id: 'bench' }),
    metrics: () => {
      metrics.addMetric('PresignCreated', MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    },
  });
  const afterHandler = await compare({ overhead: once });
  const overlapped = await overlap();
  const tracing = await tracingOptions();
  return {
    overhead_us: round(afterHandler.us.overhead),
    tracing_us: tracing,
    handler_overhead_us: round(times.us.handler),
    handler_parts_us: {
      deps_per_invocation: round(times.us.deps),
      log_line: round(times.us.log),
      metrics_flush: round(times.us.metrics),
    },
    overlap: overlapped,
  };
}

const TRACING_ROUNDS = 3;

/**
 * Presign's own CPU under each tracing option (bench/README.md, tracing): one fresh process per option and round
 * (tracing.ts), the options taken in turn each round, and the median round kept.
 */
async function tracingOptions(): Promise<PresignResult['tracing_us']> {
  const samples: Record<TracingOption, number[]> = {
    before_handler: [],
    handler_loaded: [],
    opentelemetry_span: [],
    xray_sdk_loaded: [],
  };
  for (let round = 0; round < TRACING_ROUNDS; round++) {
    for (const option of TRACING_OPTIONS) {
      const { stdout } = await run$(process.execPath, ['--import', 'tsx', '--no-warnings', TRACING, option], {
        maxBuffer: 64 * 1024 * 1024,
      });
      const line = stdout.split('\n').find((l) => l.startsWith('TRACING '));
      if (!line) throw new Error(`tracing.ts ${option} printed no result`);
      samples[option].push(Number(line.slice('TRACING '.length)));
    }
  }
  const summary = (option: TracingOption) => round(median(samples[option]));
  return {
    before_handler: summary('before_handler'),
    handler_loaded: summary('handler_loaded'),
    opentelemetry_span: summary('opentelemetry_span'),
    xray_sdk_loaded: summary('xray_sdk_loaded'),
  };
}

/**
 * functions/presign.ts as Lambda would run it, its dependencies swapped for the instant stand-ins. The
 * builder in lib/config/deps.ts returns the same object on every invocation while the settings are unchanged,
 * so replacing the store and gateway on that object is what the handler built on it then uses.
 */
async function presignHandler(store: MemoryContractStore) {
  const platform = rsaPair();
  const pem = platform.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  Object.assign(process.env, serviceEnv(pem, apiV3Key()));
  const { presignDeps } = await import('../lib/config/deps');
  const { makeHandler } = await import('../functions/presign');
  const wiring = presignDeps();
  const built = await wiring.load();
  Object.assign(built, { store, wechatpay: instantGateway() });
  assert.equal(await wiring.load(), built, 'presignDeps().load() no longer returns its cached object');
  return makeHandler(wiring) as (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;
}

/** MemoryContractStore with DynamoDB's round trip added to the two writes presign makes. */
class SlowStore extends MemoryContractStore {
  override async claim(record: ContractRecord) {
    await sleep(LATENCIES.dynamodb_claim);
    return super.claim(record);
  }

  override async transition(
    current: Pick<ContractRecord, 'out_contract_code' | 'version'>,
    changes: Partial<ContractRecord> & { state: ContractState; updated_at: string },
  ) {
    await sleep(LATENCIES.dynamodb_store);
    return super.transition(current, changes);
  }
}

/** The real client: KMS replaced by a 50 ms wait, WeChat Pay by a 100 ms wait and a correctly signed answer. */
async function overlap(): Promise<PresignResult['overlap']> {
  const platform = rsaPair();
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = alnum(32);
  const signature = sign('sha256', Buffer.from(`${timestamp}\n${nonce}\n${ANSWER}\n`), platform.privateKey);
  const answerHeaders = {
    'content-type': 'application/json',
    'request-id': 'bench-request-id',
    'wechatpay-timestamp': timestamp,
    'wechatpay-nonce': nonce,
    'wechatpay-signature': signature.toString('base64'),
    'wechatpay-serial': PUBLIC_KEY_ID,
  };
  const client = new WechatPayClient({
    baseUrl: BASE_URL,
    credentials: {
      mchid: MCHID,
      serialNo: MERCHANT_SERIAL,
      signer: {
        async sign() {
          await sleep(LATENCIES.kms_sign);
          return SIGNATURE;
        },
      },
    },
    verifier: new Verifier([[PUBLIC_KEY_ID, platform.publicKey]]),
    encryptionKey: { serial: PUBLIC_KEY_ID, key: platform.publicKey },
    userAgent: 'bench/1',
    fetch: async () => {
      await sleep(LATENCIES.wechatpay);
      return new Response(ANSWER, { status: 200, headers: answerHeaders });
    },
  });
  const slow = deps(new SlowStore(), client);
  const durations: number[] = [];
  for (let i = 0; i < WARMUP_RUNS + OVERLAP_RUNS; i++) {
    const started = performance.now();
    const outcome = await presign(slow, 'H5', presignBody());
    const elapsed = performance.now() - started;
    assert.ok(outcome.stored && outcome.result.redirect_url, 'presign with latencies did not complete');
    if (i >= WARMUP_RUNS) durations.push(elapsed);
  }
  const ideal =
    Math.max(LATENCIES.dynamodb_claim, LATENCIES.kms_sign) + LATENCIES.wechatpay + LATENCIES.dynamodb_store;
  const measured = median(durations);
  return {
    ratio: round(measured / ideal, 4),
    measured_ms: round(measured),
    fastest_ms: round(Math.min(...durations)),
    ideal_ms: ideal,
    runs: OVERLAP_RUNS,
    latencies_ms: LATENCIES,
  };
}
