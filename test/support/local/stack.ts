import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '../../../infra/local/dynamodb';
import { startKmsStandIn } from '../../../infra/local/kms/server';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../../infra/local/stack';
import { checkResponse } from '../docs/openapi';

export interface TestStack extends LocalStack {
  db: DynamoDBDocumentClient;
  /** Every item of a table, for "nothing was written" and privacy assertions. */
  scan(table: 'contracts' | 'notifications' | 'repayments'): Promise<Record<string, unknown>[]>;
  /** POST/GET against the local API gateway. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer>;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/**
 * The whole local stack for one test file, on free ports, sharing the DynamoDB Local and KMS stand-in that
 * test/run.ts started (or starting its own when a file is run alone). Tables and the signing key alias are
 * unique per file, so files run in parallel without seeing each other.
 */
export async function startTestStack(
  options: Omit<LocalStackOptions, 'env'> & { env?: NodeJS.ProcessEnv } = {},
): Promise<TestStack> {
  const own: (() => Promise<void>)[] = [];
  let dynamodb = options.endpoints?.dynamodb ?? process.env.AWS_ENDPOINT_URL_DYNAMODB;
  let kms = options.endpoints?.kms ?? process.env.AWS_ENDPOINT_URL_KMS;
  if (!dynamodb) {
    const started = await startDynamoDbLocal();
    own.push(() => started.stop());
    dynamodb = started.endpoint;
  }
  if (!kms) {
    const started = await startKmsStandIn();
    own.push(() => started.close());
    kms = started.url;
  }
  const suffix = randomBytes(4).toString('hex');
  const stack = await startLocalStack({
    tableSuffix: suffix,
    ...options,
    ports: {
      api: 0,
      simulator: 0,
      kms: 0,
      dynamodb: 0,
      lambda: 0,
      states: 0,
      sqs: 0,
      extension: 0,
      ...options.ports,
    },
    endpoints: { dynamodb, kms },
    env: {
      WECHATPAY_SIGNING_KEY_ID: `alias/test-merchant-${suffix}`,
      WECHATPAY_TIMEOUT_MS: '1500',
      ...options.env,
    },
    simulator: { callbackSchedule: [50, 50, 100, 200, 400], ...options.simulator },
  });
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: stack.env.AWS_ENDPOINT_URL_DYNAMODB,
      region: 'ap-southeast-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
  return {
    ...stack,
    db,
    async scan(table) {
      const name = {
        contracts: stack.env.CONTRACTS_TABLE,
        notifications: stack.env.NOTIFICATIONS_TABLE,
        repayments: stack.env.REPAYMENTS_TABLE,
      }[table];
      const { Items } = await db.send(new ScanCommand({ TableName: name, ConsistentRead: true }));
      return (Items ?? []) as Record<string, unknown>[];
    },
    async request(method, path, body, headers = {}) {
      const res = await fetch(`${stack.api.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      const answer = { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
      // Every answer an integration test sees must match the published OpenAPI document.
      checkResponse(method, path, answer.status, answer.headers, text ? answer.body : undefined);
      return answer;
    },
    async close() {
      db.destroy();
      await stack.close();
      for (const c of own.reverse()) await c();
    },
  };
}
