/**
 * `npm test`: starts the shared stand-ins once (DynamoDB Local, the KMS stand-in) on free loopback ports,
 * runs every `*.test.ts` under test/ with node:test (or only the paths given as arguments), then stops
 * them. Test files reach the stand-ins through the SDK-standard variables AWS_ENDPOINT_URL_DYNAMODB /
 * AWS_ENDPOINT_URL_KMS, exactly as the deployed code reaches AWS. Prints the plain
 * "N passed, N failed, N skipped" line CI reads.
 */
import { once } from 'node:events';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { startDynamoDbLocal } from '../infra/local/dynamodb';
import { startKmsStandIn } from '../infra/local/kms/server';

function testFiles(paths: string[]): string[] {
  return paths.flatMap((p) => {
    const full = resolve(p);
    if (statSync(full).isFile()) return [full];
    return readdirSync(full, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => join(full, f));
  });
}

const files = testFiles(process.argv.length > 2 ? process.argv.slice(2) : ['test']);
const started = Date.now();
const [dynamodb, kms] = await Promise.all([startDynamoDbLocal(), startKmsStandIn()]);
Object.assign(process.env, {
  AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
  AWS_ENDPOINT_URL_KMS: kms.url,
  AWS_REGION: 'ap-southeast-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  // Never fall back to the instance metadata service (169.254.169.254 is not loopback).
  AWS_EC2_METADATA_DISABLED: 'true',
  // The SDK's Node 22 notice is true (Lambda runs nodejs24.x) but would repeat once per test file.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_DEV: 'false',
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_TRACE_ENABLED: 'false',
});
console.log(
  `stand-ins up in ${Date.now() - started} ms: DynamoDB Local ${dynamodb.endpoint}, KMS ${kms.url}`,
);

let passed = 0;
let failed = 0;
let skipped = 0;

/** Runs `group` with node:test, `concurrency` files at a time, printing the spec report and counting outcomes. */
async function runGroup(group: string[], concurrency: number): Promise<void> {
  if (group.length === 0) return;
  const stream = run({ files: group, concurrency, timeout: 180_000 });
  stream.on('test:pass', (t) => {
    if (t.details.type === 'suite') return;
    if (t.skip || t.todo) skipped++;
    else passed++;
  });
  stream.on('test:fail', (t) => {
    // A suite that failed only because a test in it failed is already counted; a failing hook is not.
    const failureType = (t.details.error as { failureType?: string } | undefined)?.failureType;
    if (t.details.type !== 'suite' || failureType !== 'subtestsFailed') failed++;
  });
  // Piping never ends process.stdout, so wait for the reporter itself to end.
  const reporter = stream.compose(new spec());
  reporter.pipe(process.stdout, { end: false });
  await once(reporter, 'end');
}

/**
 * Volume tests that load both cores by themselves (a thousand bookings through the whole local stack and its
 * repayment day; hundreds of concurrent presigns): they run after the others, one at a time. Beside another file
 * on two cores, DynamoDB Local and the KMS stand-in answer past the SDK's request timeout, and what these files
 * then measure is the machine, not the service.
 */
const ALONE = ['integration/functions/repayment-day/thousand.test.ts', 'reliability/race.test.ts'].map((f) =>
  resolve(import.meta.dirname, f),
);
await runGroup(
  files.filter((f) => !ALONE.includes(f)),
  Math.max(2, availableParallelism()),
);
await runGroup(
  files.filter((f) => ALONE.includes(f)),
  1,
);
await Promise.all([dynamodb.stop(), kms.close()]);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
