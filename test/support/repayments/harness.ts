/**
 * The whole local stack for repayment tests: the real handlers behind the local gateway and the Lambda Invoke
 * API, the simulator, DynamoDB Local, the KMS stand-in and the stream outbox, all on the stack's one test clock.
 * A repayment is booked for tomorrow and deducted on its date, so a test moves the clock by days; the clock starts
 * at noon in Beijing, far from midnight, so "tomorrow" cannot change under a test whatever the real time.
 */
import { randomUUID } from 'node:crypto';
import { BatchGetCommand, type BatchGetCommandOutput, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { ReconcileRunReport } from '../../../functions/reconcile';
import type { SimulatedContract, Simulator } from '../../../infra/local/simulator';
import type { RepaymentEvent } from '../../../lib/repayments/events';
import type { BookingRecord } from '../../../lib/repayments/model';
import { h5Body } from '../contracts/fixtures';
import { type ApiAnswer, startTestStack, type TestStack } from '../local/stack';
import { newWechatPayKeys, type WechatPayKeys } from '../wechatpay/callbacks';

const DAY_MS = 86_400_000;
const BEIJING_MS = 8 * 3600_000;
/** DynamoDB's limit of keys in one BatchGetItem. */
const BATCH_GET_KEYS = 100;

/** What a direct invoker (Step Functions, another Lambda) sees of a function error. */
export interface FunctionError {
  name: string;
  message: string;
}

export interface RepaymentHarness {
  stack: TestStack;
  simulator: Simulator;
  /** WeChat Pay's signing key and the APIv3 key, to send the callbacks WeChat Pay would (or would not). */
  keys: WechatPayKeys;
  /** Epoch ms on the stack's test clock. */
  now(): number;
  /** `yyyy-MM-dd` in Beijing, `days` from the test clock's today. */
  day(days?: number): string;
  /** Moves the test clock (the functions' and the simulator's) forward. */
  advance(ms: number): Promise<void>;
  /** Our API through the local gateway; every answer is checked against docs/openapi.json. */
  request(method: string, path: string, body?: unknown): Promise<ApiAnswer>;
  /** The repayments function invoked through the Lambda Invoke API: its result, or the error it threw. */
  invoke(event: unknown): Promise<unknown>;
  reconcile(limit?: number): Promise<ReconcileRunReport>;
  /** POST of a callback to our callback route, as WeChat Pay would deliver it. */
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
  /**
   * Many stored bookings by out_record_id (a booking not stored is absent), read 100 to a BatchGetItem: a
   * test that follows hundreds of bookings asks DynamoDB Local once per hundred, not once per booking.
   */
  storedMany(outRecordIds: string[]): Promise<Map<string, BookingRecord>>;
  /** The repayment events the outbox published so far for one booking (drained first). */
  eventsOf(outRecordId: string): Promise<RepaymentEvent[]>;
  close(): Promise<void>;
}

let ids = 0;
/** A fresh out_record_id (letters and digits, at most 32). */
export const newRecordId = (prefix = 'R'): string =>
  `${prefix}${Date.now().toString(36)}${ids++}${randomUUID().replaceAll('-', '').slice(0, 8)}`;

/**
 * `env`: more configuration for the stack; `kms`: a KMS stand-in of the file's own (one whose quota the file
 * may set without throttling the other files).
 */
export async function startRepaymentHarness(
  options: { env?: Record<string, string>; kms?: string } = {},
): Promise<RepaymentHarness> {
  const keys = newWechatPayKeys();
  const stack = await startTestStack({
    env: { WECHATPAY_APIV3_KEY: String(keys.apiV3Key), ...options.env },
    ...(options.kms ? { endpoints: { kms: options.kms } } : {}),
    simulator: { publicKey: { id: keys.serial, privateKey: keys.privateKey } },
  });
  const { simulator } = stack;
  if (!simulator) throw new Error('the test stack runs the simulator');
  const sim: Simulator = simulator;
  const beijingDay = (ms: number) => new Date(ms + BEIJING_MS).toISOString().slice(0, 10);
  const noon = Date.parse(`${beijingDay(stack.clock.now())}T12:00:00+08:00`) + 2 * DAY_MS;
  await stack.advanceClock(Math.ceil((noon - stack.clock.now()) / 1000));

  const invoke = async (name: string, event: unknown): Promise<unknown> => {
    const res = await fetch(`${stack.lambda.url}/2015-03-31/functions/${name}/invocations`, {
      method: 'POST',
      body: JSON.stringify(event),
    });
    const body = JSON.parse(await res.text()) as Record<string, unknown>;
    if (!res.headers.get('x-amz-function-error')) return body;
    return { name: String(body.errorType), message: String(body.errorMessage) } satisfies FunctionError;
  };

  async function signedContract(overrides: Record<string, unknown> = {}): Promise<SimulatedContract> {
    const body = h5Body(overrides);
    const res = await stack.request('POST', '/contracts/h5-presign', body);
    if (res.status !== 201) throw new Error(`presign: ${res.status} ${JSON.stringify(res.body)}`);
    const token = new URL(String(res.body.redirect_url)).searchParams.get('token') ?? '';
    await sim.agree(token);
    const contract = sim.contracts().find((c) => c.out_contract_code === body.out_contract_code);
    const ours = await stack.request('GET', `/contracts/${body.out_contract_code}`);
    if (!contract || ours.body.state !== 'SIGNED') {
      throw new Error(`contract ${body.out_contract_code} not signed`);
    }
    return contract;
  }

  return {
    stack,
    simulator: sim,
    keys,
    now: () => stack.clock.now(),
    day: (days = 0) => beijingDay(stack.clock.now() + days * DAY_MS),
    advance: (ms) => stack.advanceClock(Math.ceil(ms / 1000)),
    request: (method, path, body) => stack.request(method, path, body),
    invoke: (event) => invoke('repayments', event),
    reconcile: async (limit = 200) => (await invoke('reconcile', { limit })) as ReconcileRunReport,
    async deliver(callback) {
      const res = await fetch(stack.env.WECHATPAY_NOTIFY_URL as string, {
        method: 'POST',
        headers: callback.headers,
        body: callback.body,
      });
      return { status: res.status, body: await res.text() };
    },
    signedContract,
    async dueBooking(body = {}) {
      const contract = await signedContract();
      const id = newRecordId();
      const res = await stack.request('POST', `/contracts/${contract.out_contract_code}/repayments`, {
        out_record_id: id,
        repayment_amount: '5000',
        min_repayment_amount: '1000',
        repayment_date: beijingDay(stack.clock.now() + DAY_MS),
        ...body,
      });
      if (res.status !== 201) throw new Error(`booking: ${res.status} ${JSON.stringify(res.body)}`);
      await stack.advanceClock(DAY_MS / 1000);
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
    async storedMany(outRecordIds) {
      const table = stack.env.REPAYMENTS_TABLE as string;
      const found = new Map<string, BookingRecord>();
      for (let i = 0; i < outRecordIds.length; i += BATCH_GET_KEYS) {
        let keys: Record<string, unknown>[] | undefined = outRecordIds
          .slice(i, i + BATCH_GET_KEYS)
          .map((id) => ({ pk: `RECORD#${id}` }));
        while (keys?.length) {
          const { Responses, UnprocessedKeys }: BatchGetCommandOutput = await stack.db.send(
            new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }),
          );
          for (const item of (Responses?.[table] ?? []) as BookingRecord[])
            found.set(item.out_record_id, item);
          keys = UnprocessedKeys?.[table]?.Keys;
        }
      }
      return found;
    },
    async eventsOf(outRecordId) {
      await stack.drainEvents();
      return stack.repaymentEvents.filter((e) => e.detail.out_record_id === outRecordId);
    },
    close: () => stack.close(),
  };
}
