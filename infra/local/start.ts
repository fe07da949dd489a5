/**
 * `npm start`: the whole system on this machine, no AWS account, no internet. Shows each part coming up, then
 * one ready line with every URL and a copy-paste presign `curl`. Ctrl-C stops everything.
 *
 * Ports: PORT (API, 3000), LAMBDA_PORT (Lambda Invoke API, 3002), STATES_PORT (Step Functions, 3003), SQS_PORT
 * (SQS's ChangeMessageVisibility, 3004),
 * SIMULATOR_PORT (3100), KMS_PORT (4599), DYNAMODB_PORT (8000), PARAMETERS_SECRETS_EXTENSION_HTTP_PORT (the
 * Parameters and Secrets extension's, 2773). LOCAL_SCHEDULE_SPEEDUP (default 10, 0 = off) compresses serverless.yml's schedules.
 * Every configuration variable (README, "Configuration") that is set is honoured; generated keys live in .local/
 * (LOCAL_DATA_DIR moves them, so a test can run this without touching a developer's keys).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { bookedOn, demoRoutes } from './demo';
import { newContractCode, SAMPLE } from './demo/sample';
import { javaInstallHint } from './dynamodb';
import { assertPortFree } from './ports';
import type { LocalStack } from './stack';

const root = process.cwd();
const started = Date.now();
const since = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const say = (part: string, line: string) => console.log(`[${since().padStart(6)}] ${part.padEnd(9)} ${line}`);

function port(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Error(`${variable}=${raw} is not a port number`);
  }
  return value;
}

/**
 * Ten times faster than the test clock: reconcile's rate(5 minutes) runs every 30 s, so a lost callback or an
 * unknown presign visibly settles while one watches, without a query every second filling the console.
 */
const DEFAULT_SCHEDULE_SPEEDUP = 10;

function speedup(): number {
  const raw = process.env.LOCAL_SCHEDULE_SPEEDUP;
  if (raw === undefined || raw === '') return DEFAULT_SCHEDULE_SPEEDUP;
  const value = Number(raw);
  // Below 1 the schedules would lag the test clock they read; they never run slower than it.
  if (!Number.isFinite(value) || (value !== 0 && value < 1)) {
    throw new Error(`LOCAL_SCHEDULE_SPEEDUP=${raw} is not a factor: use 0 (off), 1 (real time) or more`);
  }
  return value;
}

async function main(): Promise<LocalStack> {
  // EMF metric lines are for CloudWatch; locally they only bury the request log.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  // Only now: the functions' Metrics objects read that variable when their modules load, and the stack loads
  // the publish function as it is imported.
  const { startLocalStack } = await import('./stack');
  const ports = {
    api: port('PORT', 3000),
    lambda: port('LAMBDA_PORT', 3002),
    states: port('STATES_PORT', 3003),
    sqs: port('SQS_PORT', 3004),
    simulator: port('SIMULATOR_PORT', 3100),
    kms: port('KMS_PORT', 4599),
    dynamodb: port('DYNAMODB_PORT', 8000),
    extension: port('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', 2773),
  };
  const scheduleSpeedup = speedup();
  const needsDynamo = !process.env.AWS_ENDPOINT_URL_DYNAMODB;
  if (needsDynamo && spawnSync('java', ['-version']).error) {
    throw new Error(
      `DynamoDB Local needs Java 17, and java is not installed. Install it with:\n  ${javaInstallHint()}`,
    );
  }
  const checks: [number, string, boolean][] = [
    [ports.api, 'PORT', true],
    [ports.lambda, 'LAMBDA_PORT', true],
    [ports.states, 'STATES_PORT', true],
    [ports.sqs, 'SQS_PORT', true],
    [ports.simulator, 'SIMULATOR_PORT', !process.env.WECHATPAY_BASE_URL],
    [ports.kms, 'KMS_PORT', !process.env.AWS_ENDPOINT_URL_KMS],
    [ports.dynamodb, 'DYNAMODB_PORT', needsDynamo],
    [ports.extension, 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', true],
  ];
  await Promise.all(checks.filter(([, , used]) => used).map(([p, v]) => assertPortFree(p, '127.0.0.1', v)));

  let apiUrl = '';
  let stack: LocalStack | undefined;
  const demo = demoRoutes({
    apiUrl: () => apiUrl,
    openapiPath: join(root, 'docs/openapi.json'),
    bookings: bookedOn(() => stack?.repaymentEvents ?? []),
  });
  stack = await startLocalStack({
    root,
    ports,
    scheduleSpeedup,
    dataDir: process.env.LOCAL_DATA_DIR || join(root, '.local'),
    extra: demo,
    log: say,
  });
  apiUrl = stack.api.url;
  return stack;
}

function readyLine(stack: LocalStack): string {
  const body = {
    appid: SAMPLE.appid,
    plan_id: SAMPLE.planId,
    out_contract_code: newContractCode(),
    display_name: '**丰',
    repayment_day: SAMPLE.repaymentDay,
    repayment_amount_limit: '10000',
    real_identity: {
      identity_type: 'REAL_IDENTITY_TYPE_ID_CARD',
      identity_id: SAMPLE.identityId,
      real_name: SAMPLE.realName,
    },
  };
  const api = stack.api.url;
  const wechatpay = stack.simulator ? stack.simulator.url : `${stack.env.WECHATPAY_BASE_URL} (external)`;
  return [
    `READY in ${since()}: API ${api} | demo ${api}/demo | OpenAPI ${api}/openapi.json | events ${api}/local/events | ` +
      `clock ${api}/local/clock | schedules ${api}/local/schedules | Lambda ${stack.lambda.url} | ` +
      `Step Functions ${stack.stepFunctions.url} | SQS ${stack.sqs.url} | ` +
      `WeChat Pay ${wechatpay} | KMS ${stack.env.AWS_ENDPOINT_URL_KMS} | DynamoDB ${stack.env.AWS_ENDPOINT_URL_DYNAMODB} | ` +
      `secrets localhost:${stack.extension.port}`,
    'Try a presign:',
    `  curl -s -X POST ${api}/contracts/h5-presign -H 'content-type: application/json' -d '${JSON.stringify(body)}'`,
  ].join('\n');
}

main().then(
  (stack) => {
    console.log(readyLine(stack));
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      say('stack', `${signal}: stopping every part`);
      await stack.close();
      say('stack', 'stopped; nothing left listening');
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
  },
  (error: Error) => {
    console.error(`npm start failed: ${error.message}`);
    process.exit(1);
  },
);
