/**
 * The whole system for repayment tests, on one movable clock: the local stack (DynamoDB Local, the KMS stand-in,
 * the simulator, the stream outbox) with every function the tests reach (presign, contracts, notify,
 * repayments, reconcile) built by its own makeHandler over dependencies whose runtime runs on that clock, and
 * the simulator signing and keeping business time on it too. A repayment is booked for tomorrow and deducted on
 * its date, so a test moves the clock by days; signatures stay valid because both ends read the same clock.
 *
 * WeChat Pay's callbacks reach a small HTTP front that turns them into API Gateway v2.0 events for the notify
 * handler, as the local gateway does for the handlers it imports with the system clock.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { makeHandler as makeContractsHandler } from '../../../functions/contracts';
import { makeHandler as makeNotifyHandler } from '../../../functions/notify';
import { makeHandler as makePresignHandler } from '../../../functions/presign';
import { makeHandler as makeReconcileHandler, type ReconcileRunReport } from '../../../functions/reconcile';
import { makeHandler as makeRepaymentsHandler } from '../../../functions/repayments';
import { lambdaContext } from '../../../infra/local/lambda-context';
import type { SimulatedContract, Simulator } from '../../../infra/local/simulator';
import {
  contractDeps,
  notifyDeps,
  presignDeps,
  reconcileDeps,
  repaymentDeps,
} from '../../../lib/config/deps';
import { createRuntime } from '../../../lib/config/runtime';
import type { RepaymentEvent } from '../../../lib/repayments/events';
import type { BookingRecord } from '../../../lib/repayments/model';
import { NOTIFY_PATH, newWechatPayKeys, type WechatPayKeys } from '../callbacks';
import { h5Body } from '../fixtures';
import { checkResponse } from '../openapi';
import { type ApiAnswer, startTestStack, type TestStack } from '../stack';

type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;

const DAY_MS = 86_400_000;

/** A clock that starts at noon in Beijing, two days from now, and only moves forward. */
export class MovableClock {
  private offsetMs: number;

  constructor() {
    const beijingToday = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    const noon = Date.parse(`${beijingToday}T12:00:00+08:00`) + 2 * DAY_MS;
    this.offsetMs = noon - Date.now();
  }

  readonly now = (): number => Date.now() + this.offsetMs;

  advance(ms: number): void {
    this.offsetMs += ms;
  }

  /** `yyyy-MM-dd` in Beijing, `days` from the clock's today. */
  day(days = 0): string {
    return new Date(this.now() + 8 * 3600_000 + days * DAY_MS).toISOString().slice(0, 10);
  }
}

export interface RepaymentHarness {
  stack: TestStack;
  simulator: Simulator;
  clock: MovableClock;
  /** WeChat Pay's signing key and the APIv3 key, to send the callbacks WeChat Pay would (or would not). */
  keys: WechatPayKeys;
  /** Where WeChat Pay's callbacks reach the notify handler. */
  notifyUrl: string;
  /** Our API through the real handlers; every answer is checked against docs/openapi.json. */
  request(method: string, path: string, body?: unknown): Promise<ApiAnswer>;
  /** The repayments function invoked directly (Step Functions, another Lambda): its result, or the thrown error. */
  invoke(event: unknown): Promise<unknown>;
  reconcile(limit?: number): Promise<ReconcileRunReport>;
  /** POST of a callback to the notify handler, as WeChat Pay would deliver it. */
  deliver(callback: {
    headers: Record<string, string>;
    body: Buffer;
  }): Promise<{ status: number; body: string }>;
  /** A contract presigned through our API and signed by the user; the simulator's view of it. */
  signedContract(overrides?: Record<string, unknown>): Promise<SimulatedContract>;
  /** A signed contract with one booking for tomorrow (201 checked), and the clock moved to that day. */
  dueBooking(body?: Record<string, unknown>): Promise<{ contract: SimulatedContract; id: string }>;
  /** Our stored booking, read straight from the repayments table. */
  stored(outRecordId: string): Promise<BookingRecord | undefined>;
  /** The repayment events the outbox published so far for one booking (drained first). */
  eventsOf(outRecordId: string): Promise<RepaymentEvent[]>;
  close(): Promise<void>;
}

const ROUTES: [string, string, 'presign' | 'contracts' | 'repayments'][] = [
  ['POST', '/contracts/h5-presign', 'presign'],
  ['POST', '/contracts/{out_contract_code}/repayments', 'repayments'],
  ['GET', '/contracts/{out_contract_code}', 'contracts'],
  ['GET', '/repayments/{out_record_id}', 'repayments'],
  ['POST', '/repayments/{out_record_id}/deduct', 'repayments'],
];

export async function startRepaymentHarness(
  options: { env?: Record<string, string>; simulator?: Record<string, unknown> } = {},
): Promise<RepaymentHarness> {
  const clock = new MovableClock();
  const keys = newWechatPayKeys();
  let notify: Handler | undefined;
  const front = await listen(async (body, headers) => {
    if (!notify) return { statusCode: 503 };
    return (await notify(apiEvent('POST', NOTIFY_PATH, NOTIFY_PATH, {}, headers, body), context('notify'))) as
      | APIGatewayProxyStructuredResultV2
      | undefined;
  });
  const notifyUrl = `${front.url}${NOTIFY_PATH}`;
  const stack = await startTestStack({
    env: { WECHATPAY_APIV3_KEY: String(keys.apiV3Key), WECHATPAY_NOTIFY_URL: notifyUrl, ...options.env },
    simulator: {
      publicKey: { id: keys.serial, privateKey: keys.privateKey },
      clock: clock.now,
      ...options.simulator,
    },
  });
  const { simulator } = stack;
  if (!simulator) throw new Error('the test stack runs the simulator');
  const sim: Simulator = simulator;
  const runtime = createRuntime({ clock: clock.now });
  notify = makeNotifyHandler(notifyDeps(runtime)) as Handler;
  const handlers: Record<string, Handler> = {
    presign: makePresignHandler(presignDeps(runtime)) as Handler,
    contracts: makeContractsHandler(contractDeps(runtime)) as Handler,
    repayments: makeRepaymentsHandler(repaymentDeps(runtime)) as Handler,
  };
  const reconcile = makeReconcileHandler(reconcileDeps(runtime)) as Handler;

  async function request(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const [pathname = '', search = ''] = path.split('?');
    const found = ROUTES.map(([m, template, fn]) => ({
      m,
      template,
      fn,
      params: match(template, pathname),
    })).find((r) => r.m === method && r.params);
    if (!found?.params) throw new Error(`no route for ${method} ${path}`);
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const query = Object.fromEntries(new URLSearchParams(search));
    const event = apiEvent(
      method,
      `${method} ${found.template}`,
      pathname,
      query,
      {},
      Buffer.from(text),
      found.params,
    );
    const result = (await handlers[found.fn]?.(
      event,
      context(found.fn),
    )) as APIGatewayProxyStructuredResultV2;
    const headers = new Headers(result.headers as Record<string, string>);
    const answer = {
      status: result.statusCode ?? 200,
      headers,
      body: result.body ? (JSON.parse(result.body) as Record<string, unknown>) : {},
    };
    checkResponse(method, path, answer.status, headers, result.body ? answer.body : undefined);
    return answer;
  }

  async function signedContract(overrides: Record<string, unknown> = {}): Promise<SimulatedContract> {
    let body = h5Body(overrides);
    let res = await request('POST', '/contracts/h5-presign', body);
    // On a saturated machine the presign claim's own SDK retry can meet its first write (409 in progress), or
    // DynamoDB Local can time out (503); a client then starts over with a new code, as this does, twice at most.
    for (let retry = 0; retry < 2 && (res.status === 409 || res.status === 503); retry++) {
      body = h5Body(overrides);
      res = await request('POST', '/contracts/h5-presign', body);
    }
    if (res.status !== 201) throw new Error(`presign: ${res.status} ${JSON.stringify(res.body)}`);
    const token = new URL(String(res.body.redirect_url)).searchParams.get('token') ?? '';
    await sim.agree(token);
    const contract = sim.contracts().find((c) => c.out_contract_code === body.out_contract_code);
    const ours = await request('GET', `/contracts/${body.out_contract_code}`);
    if (!contract || ours.body.state !== 'SIGNED')
      throw new Error(`contract ${body.out_contract_code} not signed`);
    return contract;
  }

  return {
    stack,
    simulator,
    clock,
    keys,
    notifyUrl,
    request,
    invoke: (event) =>
      handlers
        .repayments?.(event, context('repayments'))
        .catch((error: unknown) => error) as Promise<unknown>,
    reconcile: async (limit = 200) =>
      (await reconcile({ limit }, context('reconcile', 120_000))) as ReconcileRunReport,
    async deliver(callback) {
      const res = await fetch(notifyUrl, { method: 'POST', headers: callback.headers, body: callback.body });
      return { status: res.status, body: await res.text() };
    },
    signedContract,
    async dueBooking(body = {}) {
      const contract = await signedContract();
      const id = newRecordId();
      const res = await request('POST', `/contracts/${contract.out_contract_code}/repayments`, {
        out_record_id: id,
        repayment_amount: '5000',
        min_repayment_amount: '1000',
        repayment_date: clock.day(1),
        ...body,
      });
      if (res.status !== 201) throw new Error(`booking: ${res.status} ${JSON.stringify(res.body)}`);
      clock.advance(DAY_MS);
      return { contract, id };
    },
    async stored(outRecordId) {
      const { Item } = await stack.db.send(
        new GetCommand({
          TableName: stack.env.REPAYMENTS_TABLE,
          Key: { pk: `RECORD#${outRecordId}` },
          ConsistentRead: true,
        }),
      );
      return Item as BookingRecord | undefined;
    },
    async eventsOf(outRecordId) {
      await stack.drainEvents();
      return stack.repaymentEvents.filter((e) => e.detail.out_record_id === outRecordId);
    },
    async close() {
      await stack.close();
      await front.close();
    },
  };
}

let ids = 0;
/** A fresh out_record_id (letters and digits, at most 32). */
export const newRecordId = (prefix = 'R'): string =>
  `${prefix}${Date.now().toString(36)}${ids++}${randomUUID().slice(0, 8)}`.replaceAll('-', '');

const context = (name: string, budgetMs = 30_000) => lambdaContext(name, budgetMs, randomUUID());

function match(template: string, path: string): Record<string, string> | undefined {
  const names: string[] = [];
  const pattern = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  const found = new RegExp(`^${pattern}$`).exec(path);
  if (!found) return undefined;
  return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(found[i + 1] ?? '')]));
}

/** The API Gateway (HTTP API, payload 2.0) event of one request. */
function apiEvent(
  method: string,
  routeKey: string,
  path: string,
  query: Record<string, string>,
  headers: Record<string, string>,
  body: Buffer,
  params: Record<string, string> = {},
): APIGatewayProxyEventV2 {
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: { 'content-type': 'application/json', ...headers },
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(params).length > 0 ? { pathParameters: params } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'test.local',
      domainPrefix: 'test',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    isBase64Encoded: false,
    ...(body.length > 0 ? { body: body.toString('utf8') } : {}),
  };
}

/** A loopback server answering every POST through `handle` (the callback route). */
async function listen(
  handle: (
    body: Buffer,
    headers: Record<string, string>,
  ) => Promise<APIGatewayProxyStructuredResultV2 | undefined>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
    );
    try {
      const result = await handle(Buffer.concat(chunks), headers);
      res.writeHead(result?.statusCode ?? 500, result?.headers as Record<string, string> | undefined);
      res.end(result?.body);
    } catch {
      res.writeHead(500);
      res.end();
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
