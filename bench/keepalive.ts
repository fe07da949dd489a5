/**
 * Phase "keepalive": does the deployed object graph reuse its connections? lib/config/deps.ts builds the presign
 * dependencies from the environment exactly as in Lambda, pointed at loopback servers that count the TCP
 * connections they accept: DynamoDB (GetItem), KMS (Sign, on every WeChat Pay call) and WeChat Pay (a signed
 * answer). Sequential calls on one warm container should need one connection each.
 */
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { contractPath } from '../lib/wechatpay/credit-repayment';
import { alnum, apiV3Key, PUBLIC_KEY_ID, rsaPair } from './fixtures';
import { serviceEnv } from './lambda';

export interface Reuse {
  calls: number;
  connections: number;
}

export interface KeepAliveResult {
  wechatpay: Reuse;
  dynamodb: Reuse;
  kms: Reuse;
  /** presignDeps().load() hands every invocation the same clients (and so the same sockets). */
  deps_reused: boolean;
}

const CALLS = 50;

interface CountingServer {
  url: string;
  connections(): number;
  requests(): number;
  close(): Promise<void>;
}

async function countingServer(answer: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void) {
  let connections = 0;
  let requests = 0;
  const server = createServer(async (req, res) => {
    requests++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    answer(req, Buffer.concat(chunks), res);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  } satisfies CountingServer;
}

/** Just enough of the DynamoDB and KMS JSON protocols for GetItem and Sign. */
function awsAnswer(req: IncomingMessage, _body: Buffer, res: ServerResponse): void {
  const target = String(req.headers['x-amz-target'] ?? '');
  if (target === 'DynamoDB_20120810.GetItem') {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
  } else if (target === 'TrentService.Sign') {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(
      JSON.stringify({
        KeyId: 'arn:aws:kms:ap-southeast-1:000000000000:key/bench',
        Signature: Buffer.alloc(256, 1).toString('base64'),
        SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
      }),
    );
  } else {
    res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' }).end(
      JSON.stringify({
        __type: 'UnknownOperationException',
        message: `bench server does not know ${target}`,
      }),
    );
  }
}

export async function run(): Promise<KeepAliveResult> {
  const platform = rsaPair();
  const contract = JSON.stringify({
    out_contract_code: 'KEEPALIVE1',
    contract_state: 'CONTRACT_STATE_EFFECTIVE',
  });
  const wechatpay = await countingServer((_req, _body, res) => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = alnum(32);
    const signature = sign(
      'sha256',
      Buffer.from(`${timestamp}\n${nonce}\n${contract}\n`),
      platform.privateKey,
    );
    res
      .writeHead(200, {
        'content-type': 'application/json',
        'request-id': `bench-${nonce}`,
        'wechatpay-timestamp': timestamp,
        'wechatpay-nonce': nonce,
        'wechatpay-signature': signature.toString('base64'),
        'wechatpay-serial': PUBLIC_KEY_ID,
      })
      .end(contract);
  });
  const dynamodb = await countingServer(awsAnswer);
  const kms = await countingServer(awsAnswer);
  try {
    Object.assign(process.env, {
      ...serviceEnv(platform.publicKey.export({ type: 'spki', format: 'pem' }).toString(), apiV3Key()),
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
      AWS_ENDPOINT_URL_KMS: kms.url,
      WECHATPAY_BASE_URL: wechatpay.url,
    });
    const { presignDeps } = await import('../lib/config/deps');
    const wiring = presignDeps();
    const deps = await wiring.load();
    for (let i = 0; i < CALLS; i++) {
      assert.equal(await deps.store.get('KEEPALIVE1'), undefined);
    }
    const client = deps.wechatpay as import('../lib/wechatpay/client').WechatPayClient;
    for (let i = 0; i < CALLS; i++) {
      const answer = await client.call({ method: 'GET', path: contractPath('KEEPALIVE1') });
      assert.equal(answer.status, 200);
    }
    assert.equal(wechatpay.requests(), CALLS, 'WeChat Pay server saw a different number of calls');
    assert.equal(kms.requests(), CALLS, 'KMS server saw a different number of Sign calls');
    return {
      wechatpay: { calls: CALLS, connections: wechatpay.connections() },
      dynamodb: { calls: dynamodb.requests(), connections: dynamodb.connections() },
      kms: { calls: kms.requests(), connections: kms.connections() },
      deps_reused: (await wiring.load()) === deps,
    };
  } finally {
    await Promise.all([wechatpay.close(), dynamodb.close(), kms.close()]);
  }
}
