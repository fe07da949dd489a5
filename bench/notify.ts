/**
 * Phase "notify": the CPU one callback costs us when storage answers instantly, to set beside the local
 * throughput (where DynamoDB Local, the SDK and loopback HTTP share the same two cores).
 *
 * - use_case: openNotification (RSA verify, AES-GCM decrypt) then applyNotification, on in-memory stores.
 * - handler: the same through functions/notify.ts as Lambda runs it (middy, Powertools, settings check).
 */
import assert from 'node:assert/strict';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { NotificationStore } from '../lib/contracts/ports';
import { MemoryContractStore } from '../test/support/contracts/memory-store';
import { apiV3Key, PUBLIC_KEY_ID, rsaPair, sealCallback, signedContract } from './fixtures';
import { apiEvent, lambdaContext, serviceEnv } from './lambda';
import { compare, round } from './measure';

export interface NotifyResult {
  use_case_us: number;
  handler_us: number;
}

/** DynamoDB's answer without DynamoDB: every notification is new and its transaction commits. */
const instantNotifications: Pick<NotificationStore, 'record'> = { record: async () => 'recorded' };

export async function run(): Promise<NotifyResult> {
  const platform = rsaPair();
  const key = apiV3Key();
  Object.assign(
    process.env,
    serviceEnv(platform.publicKey.export({ type: 'spki', format: 'pem' }).toString(), key),
  );
  const { notifyDeps } = await import('../lib/config/deps');
  const { makeHandler } = await import('../functions/notify');
  const { openNotification } = await import('../lib/wechatpay/notification');
  const { applyNotification } = await import('../lib/contracts/notifications');
  // As presign.ts does: the builder hands every invocation this same object.
  const wiring = notifyDeps();
  const handler = makeHandler(wiring);
  const deps = await wiring.load();
  Object.assign(deps, { contracts: new MemoryContractStore(), notifications: instantNotifications });

  const cb = sealCallback({
    platformKey: platform.privateKey,
    serial: PUBLIC_KEY_ID,
    apiV3Key: key,
    resource: signedContract('BENCH0001'),
  });
  const headers = Object.fromEntries(Object.entries(cb.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const event = apiEvent('POST', '/wechatpay/notifications', cb.body, headers);
  const context = lambdaContext('notify');
  const invoke = handler as (
    event: APIGatewayProxyEventV2,
    context: Context,
  ) => Promise<{ statusCode?: number }>;
  const useCase = async () => {
    const rawBody = Buffer.from(cb.body);
    const { envelope, resource } = openNotification({ headers, body: rawBody }, deps);
    return applyNotification(deps, { envelope, resource, rawBody });
  };
  assert.equal((await useCase()).outcome, 'APPLIED');
  assert.equal((await invoke(event, context)).statusCode, 204);

  const times = await compare({ use_case: useCase, handler: () => invoke(event, context) });
  return { use_case_us: round(times.us.use_case), handler_us: round(times.us.handler) };
}
