/**
 * Phase "first": a cold start as the first caller meets it. A fresh `node` process requires the presign bundle
 * (built as serverless.yml builds it), then invokes its handler once with a new presign, against the local stack:
 * the Parameters and Secrets extension (the request-hash key and WeChat Pay's public key), DynamoDB Local (claim,
 * record) and the KMS stand-in (signature); WeChat Pay is a server in this process that answers every POST at once
 * with a correctly signed presign answer, so that WeChat Pay's own work weighs on neither side. Every connection is
 * opened by that first request, as in a new Lambda sandbox.
 *
 * Beside it, the SDK-only reference: a bundle of the same SDK clients whose handler makes the same round trips
 * (the claim and the signature in parallel, the POST to WeChat Pay, the record), with none of our code: no key
 * material read, no OAEP, no verification of the answer. Both run on this process's Node and on Node 24
 * (node24.ts), alternating, in fresh processes each time.
 *
 * The stand-ins speak plain HTTP on loopback: TLS handshakes, which a deployed function also makes on its first
 * request (to DynamoDB, KMS and WeChat Pay), are in neither figure.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { sign } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { h5Body } from '../test/support/contracts/fixtures';
import { startTestStack } from '../test/support/local/stack';
import { BUNDLE_OPTIONS } from './bundles';
import { alnum, PUBLIC_KEY_ID, type RsaPair, rsaPair } from './fixtures';
import { apiEvent } from './lambda';
import { median, round } from './measure';
import { node24 } from './node24';

export interface FirstInvocation {
  /** require() of the bundle. */
  load_ms: number;
  /** The first request after it, connections included. */
  first_request_ms: number;
  /** Both: what the first caller waits beyond Lambda's own start. */
  total_ms: number;
}

export interface FirstResult {
  runs: number;
  by_node: {
    node: string;
    presign: FirstInvocation;
    reference: FirstInvocation;
    /** presign's total over the reference's. */
    ratio: number;
  }[];
}

const RUNS = 10;

/** The SDK clients presign uses and the round trips it makes, with nothing of ours. */
const REFERENCE = `import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const kms = new KMSClient({});
export async function handler(event) {
  // The notifications table: these items must not reach the contracts table's stream (the outbox).
  const Key = { id: 'bench-first-' + JSON.parse(event.body).out_contract_code };
  const TableName = process.env.NOTIFICATIONS_TABLE;
  await Promise.all([
    dynamodb.send(new PutCommand({ TableName, Item: { ...Key, state: 'PRESIGNING' }, ConditionExpression: 'attribute_not_exists(id)' })),
    kms.send(new SignCommand({ KeyId: process.env.WECHATPAY_SIGNING_KEY_ID, Message: createHash('sha256').update(event.body).digest(), MessageType: 'DIGEST', SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })),
  ]);
  const res = await fetch(process.env.WECHATPAY_BASE_URL + '/v3/credit-repayment/partner/contracts/h5-presign', { method: 'POST', headers: { 'content-type': 'application/json' }, body: event.body });
  await res.arrayBuffer();
  await dynamodb.send(new UpdateCommand({ TableName, Key, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'state' }, ExpressionAttributeValues: { ':s': 'PRESIGNED' } }));
  return { statusCode: 201 };
}`;

/** Times one require() and one invocation inside the fresh process; the result goes to stderr. */
const INVOKER = `const started = process.hrtime.bigint();
const { handler } = require(process.argv[2]);
const loaded = process.hrtime.bigint();
const context = { functionName: 'presign', functionVersion: '$LATEST', awsRequestId: 'bench-first',
  invokedFunctionArn: 'arn:aws:lambda:ap-southeast-1:000000000000:function:presign', memoryLimitInMB: '512',
  logGroupName: '/aws/lambda/presign', logStreamName: 'bench', callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 29000 };
Promise.resolve(handler(JSON.parse(process.argv[3]), context)).then((answer) => {
  const done = process.hrtime.bigint();
  const ms = (a, b) => Number(b - a) / 1e6;
  process.stderr.write('BENCH ' + JSON.stringify({ load_ms: ms(started, loaded), first_request_ms: ms(loaded, done),
    total_ms: ms(started, done), status: answer && answer.statusCode }) + '\\n');
  process.exit(0);
});
`;

const run$ = promisify(execFile);

/** WeChat Pay answering every presign at once, signed with the platform key the functions verify with. */
async function instantWechatPay(platform: RsaPair): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ redirect_url: 'https://payapp.weixin.qq.com/credit/sign?token=bench' });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = alnum(32);
      const signature = sign('sha256', Buffer.from(`${timestamp}\n${nonce}\n${body}\n`), platform.privateKey);
      res.writeHead(200, {
        'content-type': 'application/json',
        'request-id': 'bench-first',
        'wechatpay-timestamp': timestamp,
        'wechatpay-nonce': nonce,
        'wechatpay-signature': signature.toString('base64'),
        'wechatpay-serial': PUBLIC_KEY_ID,
      });
      res.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

export async function run(): Promise<FirstResult> {
  const root = resolve(import.meta.dirname, '..');
  const dir = await mkdtemp(join(tmpdir(), 'bench-first-'));
  const platform = rsaPair();
  const stack = await startTestStack({
    simulator: { publicKey: { id: PUBLIC_KEY_ID, privateKey: platform.privateKey } },
  });
  const wechatpay = await instantWechatPay(platform);
  try {
    await writeFile(join(dir, 'package.json'), '{"type":"commonjs"}\n');
    await writeFile(join(dir, 'invoke.cjs'), INVOKER);
    const presign = join(dir, 'presign.js');
    const reference = join(dir, 'reference.js');
    await build({ ...BUNDLE_OPTIONS, entryPoints: [join(root, 'functions/presign.ts')], outfile: presign });
    await build({
      ...BUNDLE_OPTIONS,
      stdin: { contents: REFERENCE, resolveDir: root, loader: 'ts', sourcefile: 'reference.ts' },
      outfile: reference,
    });
    const env = {
      PATH: process.env.PATH ?? '',
      ...stack.env,
      WECHATPAY_BASE_URL: `http://127.0.0.1:${(wechatpay.address() as AddressInfo).port}`,
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };
    const invoke = async (node: string, bundle: string): Promise<FirstInvocation & { status: number }> => {
      const event = apiEvent('POST', '/contracts/h5-presign', JSON.stringify(h5Body()));
      const { stderr } = await run$(
        node,
        ['--no-warnings', join(dir, 'invoke.cjs'), bundle, JSON.stringify(event)],
        { env, maxBuffer: 16 * 1024 * 1024 },
      );
      const line = stderr.split('\n').find((l) => l.startsWith('BENCH '));
      if (!line) throw new Error(`no timing from ${bundle} on ${node}:\n${stderr}`);
      return JSON.parse(line.slice('BENCH '.length));
    };
    const nodes = [
      { node: process.version, path: process.execPath },
      ...(node24() ? [{ node: node24()?.version as string, path: node24()?.path as string }] : []),
    ];
    const by_node: FirstResult['by_node'] = [];
    for (const { node, path } of nodes) {
      const ours: FirstInvocation[] = [];
      const floor: FirstInvocation[] = [];
      for (let i = 0; i < RUNS; i++) {
        const a = await invoke(path, presign);
        assert.equal(a.status, 201, `the first presign on ${node} answered ${a.status}`);
        ours.push(a);
        floor.push(await invoke(path, reference));
      }
      const summary = (xs: FirstInvocation[]): FirstInvocation => ({
        load_ms: round(median(xs.map((x) => x.load_ms))),
        first_request_ms: round(median(xs.map((x) => x.first_request_ms))),
        total_ms: round(median(xs.map((x) => x.total_ms))),
      });
      const p = summary(ours);
      const r = summary(floor);
      by_node.push({ node, presign: p, reference: r, ratio: round(p.total_ms / r.total_ms, 3) });
    }
    return { runs: RUNS, by_node };
  } finally {
    wechatpay.close();
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  }
}
