/**
 * One local stack per notify test file, holding WeChat Pay's private key and the APIv3 key so that the tests
 * can sign and encrypt callbacks themselves, and two ways in: the local gateway (what WeChat Pay reaches) and
 * the exported `handler` called with an API Gateway v2.0 event (to choose `isBase64Encoded` exactly).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handler } from '../../../../functions/notify';
import { lambdaContext as localContext } from '../../../../infra/local/lambda-context';
import { h5Body } from '../../../support/contracts/fixtures';
import { checkResponse } from '../../../support/docs/openapi';
import { startTestStack, type TestStack } from '../../../support/local/stack';
import {
  type Answer,
  apiGatewayEvent,
  type Delivery,
  lambdaContext,
  NOTIFY_PATH,
  newWechatPayKeys,
  post,
  type WechatPayKeys,
} from '../../../support/wechatpay/callbacks';

type Item = Record<string, unknown>;

export interface NotifyHarness {
  stack: TestStack;
  keys: WechatPayKeys;
  /** POST through the local gateway; `contentType` other than JSON makes it base64-encode the body. */
  deliver(cb: Delivery, options?: { contentType?: string }): Promise<Answer>;
  /**
   * `deliver` as WeChat Pay does it: a 500 FAIL is sent again (at most 3 sends), since the first call of a fresh
   * process on a loaded machine can miss the SDK's DynamoDB timeouts. For tests about what an acknowledged
   * callback leaves, not about the refusal itself; the last answer.
   */
  acknowledged(cb: Delivery): Promise<Answer>;
  /**
   * `handler(event, context)` with an API Gateway v2.0 event; `eventBody` replaces the event's body text;
   * `budgetMs` is the function's time left (default 10 s).
   */
  invoke(
    cb: Delivery,
    options: { isBase64Encoded: boolean; eventBody?: string; budgetMs?: number },
  ): Promise<Answer>;
  /** Pre-signs a fresh contract through our API; returns its code and redirect_url. */
  presign(): Promise<{ code: string; redirect_url: string }>;
  contract(code: string): Promise<Item | undefined>;
  notification(id: string): Promise<Item | undefined>;
  scan(table: 'contracts' | 'notifications'): Promise<Item[]>;
  /** Full scans of both tables, for "nothing changed" comparisons. */
  snapshot(): Promise<{ contracts: Item[]; notifications: Item[] }>;
  close(): Promise<void>;
}

type StackOptions = Parameters<typeof startTestStack>[0];

export async function startNotifyHarness(name: string, options: StackOptions = {}): Promise<NotifyHarness> {
  const keys = newWechatPayKeys();
  const stack = await startTestStack({
    ...options,
    env: { WECHATPAY_APIV3_KEY: String(keys.apiV3Key), ...options.env },
    simulator: { publicKey: { id: keys.serial, privateKey: keys.privateKey }, ...options.simulator },
  });
  const slowest = { gateway: [0, 0], handler: [0, 0] };
  const observe = (answer: Answer, via: 'gateway' | 'handler'): Answer => {
    const [count = 0, max = 0] = slowest[via];
    slowest[via] = [count + 1, Math.max(max, answer.ms)];
    // Every answer WeChat Pay could see must match the published OpenAPI document.
    checkResponse('POST', NOTIFY_PATH, answer.status, answer.headers, answer.body);
    return answer;
  };
  // The DynamoDB the handlers use (stack.scan reads the shared one even when `endpoints` named another).
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: stack.env.AWS_ENDPOINT_URL_DYNAMODB,
      region: 'ap-southeast-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
  const scan = async (table: 'contracts' | 'notifications') => {
    const TableName = table === 'contracts' ? stack.env.CONTRACTS_TABLE : stack.env.NOTIFICATIONS_TABLE;
    const items: Item[] = [];
    for await (const page of paginateScan({ client: db }, { TableName, ConsistentRead: true })) {
      items.push(...((page.Items ?? []) as Item[]));
    }
    return items;
  };
  const byKey = async (table: 'contracts' | 'notifications', key: string, value: string) =>
    (await scan(table)).find((i) => i[key] === value);
  const sorted = (items: Item[], key: string) =>
    items.sort((a, b) => String(a[key]).localeCompare(String(b[key])));

  const deliver = async (cb: Delivery, options: { contentType?: string } = {}) =>
    observe(await post(`${stack.api.url}${NOTIFY_PATH}`, cb, options), 'gateway');

  return {
    stack,
    keys,
    deliver,
    async acknowledged(cb) {
      let answer = await deliver(cb);
      for (let send = 2; answer.status === 500 && send <= 3; send++) answer = await deliver(cb);
      return answer;
    },
    async invoke(cb, options) {
      const started = performance.now();
      const context =
        options.budgetMs === undefined ? lambdaContext() : localContext('notify', options.budgetMs);
      const result = (await handler(
        apiGatewayEvent(cb, options),
        context,
      )) as APIGatewayProxyStructuredResultV2;
      const ms = performance.now() - started;
      const headers = Object.fromEntries(
        Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
      );
      const body = result.body ? (JSON.parse(result.body) as Item) : undefined;
      return observe({ status: result.statusCode ?? 200, headers, body, ms }, 'handler');
    },
    async presign() {
      const body = h5Body();
      const res = await stack.request('POST', '/contracts/h5-presign', body);
      if (res.status !== 201) throw new Error(`presign answered ${res.status}: ${JSON.stringify(res.body)}`);
      return { code: String(body.out_contract_code), redirect_url: String(res.body.redirect_url) };
    },
    scan,
    contract: (code) => byKey('contracts', 'out_contract_code', code),
    notification: (id) => byKey('notifications', 'id', id),
    async snapshot() {
      const [contracts, notifications] = await Promise.all([scan('contracts'), scan('notifications')]);
      return {
        contracts: sorted(contracts, 'out_contract_code'),
        notifications: sorted(notifications, 'id'),
      };
    },
    async close() {
      for (const [via, [count = 0, max = 0]] of Object.entries(slowest)) {
        if (count > 0)
          console.log(`notify latency (${name}, ${via}): slowest of ${count} answers ${max.toFixed(1)} ms`);
      }
      db.destroy();
      await stack.close();
    },
  };
}
