/**
 * Phase "local": SIGN_CONTRACT callbacks applied per second through the whole local stack (the local API
 * gateway running functions/notify.ts, DynamoDB Local), 16 in flight. The contracts are written straight into
 * the table as PRESIGNED; each callback is sealed and signed beforehand with the platform key the simulator
 * was started with, so the timed loop only posts them. Every 204 is one notification recorded and one
 * contract moved to SIGNED in one DynamoDB transaction.
 *
 * The bound beside it: the same use case (applyNotification: GetItem, then TransactWriteItems) called directly
 * on the DynamoDB adapters with the same concurrency. What separates the two is loopback HTTP (the local
 * gateway and the fetch load generator, both in this process), the handler, and the signature and decryption.
 * The stream poller of the local stack runs in this process during both, and DynamoDB Local's JVM shares the
 * two cores with it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoContractStore } from '../lib/aws/dynamo-contract-store';
import { DynamoNotificationStore } from '../lib/aws/dynamo-notification-store';
import type { ContractRecord } from '../lib/contracts/model';
import { applyNotification } from '../lib/contracts/notifications';
import { startTestStack } from '../test/support/local/stack';
import {
  PUBLIC_KEY_ID,
  rsaPair,
  type SealedCallback,
  SIGN_CONTRACT,
  sealCallback,
  signedContract,
} from './fixtures';
import { round } from './measure';

export interface LocalResult {
  callbacks_per_s: number;
  concurrency: number;
  applied: number;
  seconds: number;
  /** Answers other than 204 during the timed window, by status. */
  other_statuses: Record<string, number>;
  /** This process's CPU (gateway, handler, SDK, stream poller; all threads) per applied callback. */
  node_cpu_ms_per_callback: number;
  /** This process's CPU time over the window's wall time: near 1 means one core was saturated by Node. */
  node_cpu_share: number;
  /** applyNotification straight on the DynamoDB adapters, same concurrency: the storage path alone. */
  dynamodb_only_per_s: number;
  /** This process's CPU per applied notification on that direct path (the SDK calls and the stream poller). */
  dynamodb_only_node_cpu_ms: number;
}

const CONCURRENCY = 16;
const CALLBACKS = 2000;
const WARMUP = 64;
const MAX_SECONDS = 10;
const BATCH = 25;

export async function run(): Promise<LocalResult> {
  const platform = rsaPair();
  const stack = await startTestStack({
    simulator: { publicKey: { id: PUBLIC_KEY_ID, privateKey: platform.privateKey } },
  });
  try {
    assert.equal(stack.env.WECHATPAY_PUBLIC_KEY_ID, PUBLIC_KEY_ID, 'the stack does not use our platform key');
    const prefix = `B${Date.now().toString(36)}`;
    const codes = Array.from(
      { length: WARMUP + CALLBACKS },
      (_, i) => `${prefix}${String(i).padStart(6, '0')}`,
    );
    await putPresigned(stack, codes);
    const apiV3Key = stack.keyMaterial.apiV3Key;
    const sealed = codes.map((code) =>
      sealCallback({
        platformKey: platform.privateKey,
        serial: PUBLIC_KEY_ID,
        apiV3Key,
        resource: signedContract(code),
      }),
    );
    const url = `${stack.api.url}/wechatpay/notifications`;
    const postOne = async (cb: SealedCallback) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...cb.headers },
        body: cb.body,
      });
      await res.arrayBuffer();
      return String(res.status);
    };
    // The first requests load and compile the handler: not part of the rate.
    const warm = await drive(sealed.slice(0, WARMUP), Number.POSITIVE_INFINITY, postOne);
    assert.equal(
      warm.outcomes['204'],
      WARMUP,
      `warm-up callbacks were refused: ${JSON.stringify(warm.outcomes)}`,
    );
    const cpu = process.cpuUsage();
    const timed = await drive(sealed.slice(WARMUP), MAX_SECONDS * 1000, postOne);
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    const { 204: applied = 0, ...other } = timed.outcomes;
    return {
      callbacks_per_s: round(applied / (timed.ms / 1000), 1),
      concurrency: CONCURRENCY,
      applied,
      seconds: round(timed.ms / 1000),
      other_statuses: other,
      node_cpu_ms_per_callback: round(cpuMs / applied, 3),
      node_cpu_share: round(cpuMs / timed.ms, 3),
      ...(await dynamodbOnly(stack, `${prefix}D`)),
    };
  } finally {
    await stack.close();
  }
}

type Stack = Awaited<ReturnType<typeof startTestStack>>;

async function putPresigned(stack: Stack, codes: string[]): Promise<void> {
  const now = new Date().toISOString();
  const expires = new Date(Date.now() + 10 * 60_000).toISOString();
  const record = (code: string): ContractRecord => ({
    out_contract_code: code,
    state: 'PRESIGNED',
    kind: 'H5',
    origin: 'PRESIGN',
    request_hash: 'bench',
    appid: 'wxd678efh567hg6787',
    plan_id: '123',
    display_name: '**丰',
    repayment_amount_limit: '10000',
    repayment_day: 1,
    redirect_url: 'https://payapp.weixin.qq.com/credit/sign?token=bench',
    expires_at: expires,
    created_at: now,
    updated_at: now,
    version: 2,
  });
  for (let i = 0; i < codes.length; i += BATCH) {
    let pending: Record<string, unknown>[] | undefined = codes
      .slice(i, i + BATCH)
      .map((code) => ({ PutRequest: { Item: record(code) } }));
    while (pending && pending.length > 0) {
      const { UnprocessedItems } = await stack.db.send(
        new BatchWriteCommand({ RequestItems: { [stack.env.CONTRACTS_TABLE as string]: pending } }),
      );
      pending = UnprocessedItems?.[stack.env.CONTRACTS_TABLE as string] as
        | Record<string, unknown>[]
        | undefined;
    }
  }
}

/** Runs `task` over the items CONCURRENCY at a time until they run out or `budgetMs` has passed. */
async function drive<T>(items: T[], budgetMs: number, task: (item: T) => Promise<string>) {
  const outcomes: Record<string, number> = {};
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < items.length && performance.now() - started < budgetMs) {
      const outcome = await task(items[next++] as T);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { outcomes, ms: performance.now() - started };
}

async function dynamodbOnly(
  stack: Stack,
  prefix: string,
): Promise<Pick<LocalResult, 'dynamodb_only_per_s' | 'dynamodb_only_node_cpu_ms'>> {
  const codes = Array.from({ length: CALLBACKS }, (_, i) => `${prefix}${String(i).padStart(6, '0')}`);
  await putPresigned(stack, codes);
  // As lib/aws/dynamodb-client.ts builds it.
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: stack.env.AWS_ENDPOINT_URL_DYNAMODB,
      region: stack.env.AWS_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const contracts = stack.env.CONTRACTS_TABLE as string;
  const deps = {
    contracts: new DynamoContractStore(db, contracts),
    notifications: new DynamoNotificationStore(db, stack.env.NOTIFICATIONS_TABLE as string, contracts),
    clock: Date.now,
  };
  const rawBody = Buffer.from('{}');
  try {
    const cpu = process.cpuUsage();
    const { outcomes, ms } = await drive(codes, MAX_SECONDS * 1000, async (code) => {
      const envelope = {
        id: randomUUID(),
        create_time: new Date().toISOString(),
        event_type: SIGN_CONTRACT,
        resource_type: 'encrypt-resource',
        resource: { algorithm: 'AEAD_AES_256_GCM', ciphertext: '', nonce: '' },
      };
      return (await applyNotification(deps, { envelope, resource: signedContract(code), rawBody })).outcome;
    });
    const used = process.cpuUsage(cpu);
    assert.deepEqual(Object.keys(outcomes), ['APPLIED'], `direct apply: ${JSON.stringify(outcomes)}`);
    const applied = outcomes.APPLIED ?? 0;
    return {
      dynamodb_only_per_s: round(applied / (ms / 1000), 1),
      dynamodb_only_node_cpu_ms: round((used.user + used.system) / 1000 / applied, 3),
    };
  } finally {
    db.destroy();
  }
}
