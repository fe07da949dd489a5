/**
 * Phase "bundles": each function bundled as serverless.yml's custom.esbuild does it (bundle, minify, node24,
 * cjs, platform node, AWS SDK included), its minified size, and its load time: the median over fresh `node`
 * processes of the `require()` of the bundle, timed inside the child with process.hrtime.
 *
 * Beside them, reference bundles that only import and instantiate the AWS SDK clients a function family uses
 * (our floor), and attribution bundles (the reference plus one of our other dependencies, or one we chose not to
 * bundle) that show where the rest of the load time goes. Every load is timed on this process's Node and, when it
 * is installed, on Node 24 (the deploy runtime: node24.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { median, round } from './measure';
import { node24 } from './node24';

export const FUNCTIONS = ['presign', 'notify', 'contracts', 'reconcile', 'repayments', 'publish'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** Which reference each function is held to: the SDK clients its family really uses. */
export const REFERENCE_OF: Record<FunctionName, string> = {
  presign: 'reference',
  contracts: 'reference',
  reconcile: 'reference',
  repayments: 'reference',
  notify: 'reference_notify',
  publish: 'reference_publish',
};

/**
 * The design floor: the reference plus what the design itself requires of every deployed function (Powertools
 * Logger and Metrics, middy; key material comes through the Parameters and Secrets extension over HTTP, tracing
 * is Lambda's own: bench/README.md). What a function loads beyond it is our own code and our own choices.
 */
export const SPEC_FLOOR_OF: Record<FunctionName, string> = {
  presign: 'spec_floor',
  contracts: 'spec_floor',
  reconcile: 'spec_floor',
  repayments: 'spec_floor',
  notify: 'spec_floor_notify',
  publish: 'spec_floor_publish',
};

const DYNAMODB = `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
export const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient({}));`;
const KMS = `import { KMSClient } from '@aws-sdk/client-kms';
export const kms = new KMSClient({});`;
const EVENTBRIDGE = `import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { unmarshall } from '@aws-sdk/util-dynamodb';
export const eventbridge = new EventBridgeClient({});
export const toRecord = unmarshall;`;
const EXTENSION = `import { parametersExtension } from './lib/aws/parameters-extension';
export const keys = parametersExtension({ port: 2773 });`;
const TRACER = `import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
export const tracer = new Tracer({ serviceName: 'bench' });
export const tracing = captureLambdaHandler;`;
// The least an in-process OpenTelemetry tracer needs: a registered provider (context manager, span processor)
// and the API; an exporter comes on top of it.
const OPENTELEMETRY = `import { trace } from '@opentelemetry/api';
import { BatchSpanProcessor, NodeTracerProvider, InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(new InMemorySpanExporter())] });
provider.register();
export const tracer = trace.getTracer('bench');`;
const LOGGING = `import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
export const observability = [new Logger(), new Metrics({ namespace: 'bench' }), injectLambdaContext, logMetrics];
export const handler = middy(async () => ({}));`;

const REFERENCES: Record<string, string> = {
  reference: `${DYNAMODB}\n${KMS}`,
  reference_notify: DYNAMODB,
  reference_publish: EVENTBRIDGE,
  spec_floor: [DYNAMODB, KMS, LOGGING].join('\n'),
  spec_floor_notify: [DYNAMODB, LOGGING].join('\n'),
  spec_floor_publish: [EVENTBRIDGE, LOGGING].join('\n'),
};

/** The presign family's reference plus one dependency each: what that dependency adds to a cold load. */
const ATTRIBUTION: Record<string, string> = {
  'zod (validation)': `import { z } from 'zod';
export const schema = z.strictObject({ code: z.string().regex(/^[0-9A-Za-z]+$/) });`,
  'zod/mini (the same schema)': `import * as z from 'zod/mini';
export const schema = z.strictObject({ code: z.string().check(z.regex(/^[0-9A-Za-z]+$/)) });`,
  'our Parameters and Secrets extension adapter (node:http)': EXTENSION,
  'Powertools Tracer (aws-xray-sdk-core), not bundled': TRACER,
  'minimal OpenTelemetry SDK (sdk-trace-node, registered), not bundled': OPENTELEMETRY,
  'Powertools Logger + Metrics, middy': LOGGING,
};

export interface BundlesResult {
  runs: number;
  bundle_bytes: Record<string, number>;
  cold_load_ms: Record<string, number>;
  /** CPU time of the same loads (all threads): much less sensitive than wall time to other processes. */
  cold_load_cpu_ms: Record<string, number>;
  /** Each function's cold load over its reference's. */
  cold_load_ratio: Record<FunctionName, number>;
  /** The same loads on Node 24 (the deploy runtime), when it is installed (node24.ts); null otherwise. */
  node24: {
    version: string;
    cold_load_ms: Record<string, number>;
    cold_load_cpu_ms: Record<string, number>;
    cold_load_ratio: Record<FunctionName, number>;
    attribution_ms: Record<string, number>;
  } | null;
  /** What no bundle may hold, found in each function's bundle (its package in the metafile, or its service id). */
  forbidden_in_bundle: Record<FunctionName, string[]>;
  /** Each function's cold load over its design floor's: what our code and our own choices add. */
  cold_load_spec_ratio: Record<FunctionName, number>;
  /** Whether each function's bundle holds the KMS client (its code or its service id). */
  kms_client: Record<FunctionName, boolean>;
  /** Whether loading the function (its cold start) evaluates the KMS client, as opposed to merely bundling it. */
  kms_loaded_at_cold_start: Record<FunctionName, boolean>;
  /** Whether each function's bundle holds the DynamoDB client (its code or its service id). */
  dynamodb_client: Record<FunctionName, boolean>;
  /** Whether loading the function evaluates the DynamoDB client or lib-dynamodb, as opposed to merely bundling them. */
  dynamodb_loaded_at_cold_start: Record<FunctionName, boolean>;
  /** The largest packages in each function's bundle, bytes of minified output. */
  top_packages: Record<FunctionName, [string, number][]>;
  /** Milliseconds each dependency adds to the presign family's reference. */
  attribution_ms: Record<string, number>;
}

const RUNS = 20;
const TOP_PACKAGES = 8;

// Serverless's custom.esbuild: bundle, minify, no sourcemap, node24, cjs, platform node, nothing external.
export const BUNDLE_OPTIONS = {
  bundle: true,
  minify: true,
  sourcemap: false,
  target: 'node24',
  platform: 'node',
  format: 'cjs',
  metafile: true,
  logLevel: 'error',
} as const;

const LOADER = `const started = process.hrtime.bigint();
const cpu = process.cpuUsage();
const loaded = require(process.argv[2]);
const ms = Number(process.hrtime.bigint() - started) / 1e6;
const used = process.cpuUsage(cpu);
if (!loaded || Object.keys(loaded).length === 0) throw new Error('the bundle exports nothing');
process.stdout.write(JSON.stringify({ ms, cpu_ms: (used.user + used.system) / 1000 }));
`;

const run$ = promisify(execFile);

interface Load {
  ms: number;
  cpu_ms: number;
}

export async function run(): Promise<BundlesResult> {
  const root = resolve(import.meta.dirname, '..');
  const dir = await mkdtemp(join(tmpdir(), 'bench-bundles-'));
  try {
    // The repository is "type": "module"; the bundles are CommonJS, as Lambda loads them.
    await writeFile(join(dir, 'package.json'), '{"type":"commonjs"}\n');
    await writeFile(join(dir, 'load.cjs'), LOADER);
    const outputs = new Map<string, { file: string; bytes: number; metafile: Metafile }>();
    for (const fn of FUNCTIONS) {
      const file = join(dir, `${fn}.js`);
      const result = await build({
        ...BUNDLE_OPTIONS,
        entryPoints: [join(root, 'functions', `${fn}.ts`)],
        outfile: file,
      });
      outputs.set(fn, { file, bytes: outputBytes(result.metafile), metafile: result.metafile });
    }
    const base = REFERENCES.reference as string;
    const extra = Object.entries(ATTRIBUTION).map(([name, code]) => [name, `${base}\n${code}`] as const);
    for (const [name, code] of [...Object.entries(REFERENCES), ...extra]) {
      const file = join(dir, `${name.replace(/\W+/g, '_')}.js`);
      const result = await build({
        ...BUNDLE_OPTIONS,
        stdin: { contents: code, resolveDir: root, loader: 'ts', sourcefile: `${name}.ts` },
        outfile: file,
      });
      outputs.set(name, { file, bytes: outputBytes(result.metafile), metafile: result.metafile });
    }

    const bundles = [...outputs].map(([name, o]) => [name, o.file] as const);
    const times = await coldLoads(dir, bundles, process.execPath);
    const ms = (name: string) => times.get(name)?.ms as number;
    const on24 = node24();
    const times24 = on24 ? await coldLoads(dir, bundles, on24.path) : undefined;
    const bundle_bytes = Object.fromEntries([...outputs].map(([name, o]) => [name, o.bytes]));
    const cold_load_ms = Object.fromEntries([...times].map(([name, t]) => [name, round(t.ms)]));
    const cold_load_cpu_ms = Object.fromEntries([...times].map(([name, t]) => [name, round(t.cpu_ms)]));
    const fnRecord = <T>(f: (fn: FunctionName) => T) =>
      Object.fromEntries(FUNCTIONS.map((fn) => [fn, f(fn)])) as Record<FunctionName, T>;
    const texts = new Map<string, string>();
    for (const fn of FUNCTIONS)
      texts.set(fn, await readFile((outputs.get(fn) as { file: string }).file, 'utf8'));
    // A client's service id, or its package name (kept in the bundle for the user agent).
    const holds = (client: RegExp) => (fn: FunctionName) => client.test(texts.get(fn) ?? '');
    const coldStart = new Map(
      await Promise.all(FUNCTIONS.map(async (fn) => [fn, await loadedAtColdStart(root, dir, fn)] as const)),
    );
    const loaded = (client: ColdStartClient) => (fn: FunctionName) => coldStart.get(fn)?.[client] ?? false;
    return {
      runs: RUNS,
      bundle_bytes,
      cold_load_ms,
      cold_load_cpu_ms,
      cold_load_ratio: fnRecord((fn) => round(ms(fn) / ms(REFERENCE_OF[fn]), 3)),
      cold_load_spec_ratio: fnRecord((fn) => round(ms(fn) / ms(SPEC_FLOOR_OF[fn]), 3)),
      node24:
        on24 && times24
          ? {
              version: on24.version,
              cold_load_ms: Object.fromEntries([...times24].map(([name, t]) => [name, round(t.ms)])),
              cold_load_cpu_ms: Object.fromEntries([...times24].map(([name, t]) => [name, round(t.cpu_ms)])),
              cold_load_ratio: fnRecord((fn) =>
                round((times24.get(fn)?.ms as number) / (times24.get(REFERENCE_OF[fn])?.ms as number), 3),
              ),
              attribution_ms: Object.fromEntries(
                Object.keys(ATTRIBUTION).map((name) => [
                  name,
                  round((times24.get(name)?.ms as number) - (times24.get('reference')?.ms as number)),
                ]),
              ),
            }
          : null,
      forbidden_in_bundle: fnRecord((fn) =>
        forbidden((outputs.get(fn) as { metafile: Metafile }).metafile, texts.get(fn) ?? ''),
      ),
      kms_client: fnRecord(holds(/TrentService|@aws-sdk\/client-kms/)),
      kms_loaded_at_cold_start: fnRecord(loaded('kms')),
      dynamodb_client: fnRecord(holds(/DynamoDB_20120810|@aws-sdk\/client-dynamodb/)),
      dynamodb_loaded_at_cold_start: fnRecord(loaded('dynamodb')),
      top_packages: fnRecord((fn) => topPackages((outputs.get(fn) as { metafile: Metafile }).metafile)),
      attribution_ms: Object.fromEntries(
        Object.keys(ATTRIBUTION).map((name) => [name, round(ms(name) - ms('reference'))]),
      ),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The SDK clients a function may bundle but should load only when it first calls them, by their packages. */
const COLD_START_CLIENTS = {
  kms: ['@aws-sdk/client-kms'],
  dynamodb: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'],
} as const;
type ColdStartClient = keyof typeof COLD_START_CLIENTS;

/**
 * Bundles the function with those clients' packages left external, then requires it in a fresh process that
 * records which of them anything asked for while loading (each then loaded from node_modules, so that the load
 * goes on as bundled): a client is true only when the cold start evaluates it, not when it is merely bundled.
 */
export async function loadedAtColdStart(
  root: string,
  dir: string,
  fn: FunctionName,
): Promise<Record<ColdStartClient, boolean>> {
  const file = join(dir, `${fn}-clients-external.js`);
  const packages = Object.values(COLD_START_CLIENTS).flat();
  await build({
    ...BUNDLE_OPTIONS,
    external: packages,
    entryPoints: [join(root, 'functions', `${fn}.ts`)],
    outfile: file,
  });
  const resolve = createRequire(join(root, 'package.json')).resolve;
  const paths = Object.fromEntries(packages.map((pkg) => [pkg, resolve(pkg)]));
  const probe = `const M = require('node:module'); const load = M._load; const paths = ${JSON.stringify(paths)};
const asked = new Set();
M._load = function (request, ...rest) {
  if (request in paths) { asked.add(request); return load.call(this, paths[request], ...rest); }
  return load.call(this, request, ...rest);
};
require(${JSON.stringify(file)}); process.stdout.write(JSON.stringify([...asked]));`;
  const { stdout } = await run$(process.execPath, ['--no-warnings', '-e', probe], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'ap-southeast-1' },
  });
  const asked = JSON.parse(stdout) as string[];
  return Object.fromEntries(
    Object.entries(COLD_START_CLIENTS).map(([client, pkgs]) => [
      client,
      pkgs.some((pkg) => asked.includes(pkg)),
    ]),
  ) as Record<ColdStartClient, boolean>;
}

/**
 * What no function may bundle: an SSM or Secrets Manager client (key material comes through the Parameters and
 * Secrets extension) and the X-Ray SDK or Powertools Tracer (its support ends 2027-02-25). By package, and by the
 * service ids a copy under another name would still carry (SSM's `AmazonSSM`, Secrets Manager's JSON target).
 */
const FORBIDDEN_PACKAGES = [
  '@aws-sdk/client-ssm',
  '@aws-sdk/client-secrets-manager',
  '@aws-lambda-powertools/parameters',
  '@aws-lambda-powertools/tracer',
  'aws-xray-sdk-core',
];
const FORBIDDEN_TEXT = [/AmazonSSM\b/, /secretsmanager\.GetSecretValue/];

function forbidden(metafile: Metafile, text: string): string[] {
  const inputs = Object.values(metafile.outputs).flatMap((o) => Object.keys(o.inputs));
  const packages = FORBIDDEN_PACKAGES.filter((pkg) => inputs.some((i) => i.includes(`node_modules/${pkg}/`)));
  return [...packages, ...FORBIDDEN_TEXT.filter((re) => re.test(text)).map((re) => re.source)];
}

const outputBytes = (metafile: Metafile): number =>
  Object.values(metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);

/**
 * RUNS fresh processes per bundle, round-robin across bundles so that any drift of the machine during the
 * phase is spread over all of them. Warnings are off: Node 20 makes the SDK print a support notice, which
 * Lambda's Node 22 does not.
 */
async function coldLoads(
  dir: string,
  bundles: (readonly [string, string])[],
  node: string,
): Promise<Map<string, Load>> {
  const env = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'ap-southeast-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
  };
  const samples = new Map<string, Load[]>(bundles.map(([name]) => [name, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const [name, file] of bundles) {
      const { stdout } = await run$(node, ['--no-warnings', join(dir, 'load.cjs'), file], {
        env,
      });
      samples.get(name)?.push(JSON.parse(stdout) as Load);
    }
  }
  return new Map(
    [...samples].map(([name, loads]) => [
      name,
      { ms: median(loads.map((l) => l.ms)), cpu_ms: median(loads.map((l) => l.cpu_ms)) },
    ]),
  );
}

function topPackages(metafile: Metafile): [string, number][] {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? 'own code (functions/, lib/)';
      bytes.set(pkg, (bytes.get(pkg) ?? 0) + input.bytesInOutput);
    }
  }
  return [...bytes].sort((a, b) => b[1] - a[1]).slice(0, TOP_PACKAGES);
}
