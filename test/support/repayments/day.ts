/**
 * Repayment-day tests on the repayment harness: many due bookings booked through our own API on a few signed
 * contracts (the simulator needs a signed contract and its booking to accept a deduct; a contract takes any
 * number of bookings), the run started as the schedule would and awaited in the local Step Functions, and what
 * WeChat Pay ended up holding, per booking.
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { type KmsStandIn, startKmsStandIn } from '../../../infra/local/kms/server';
import type { ExecutionDescription } from '../../../infra/local/step-functions';
import type { DayRunRecord } from '../../../lib/repayments/day-model';
import { newRecordId, type RepaymentHarness, startRepaymentHarness } from './harness';

const DAY_MS = 86_400_000;

export interface DayStack {
  readonly h: RepaymentHarness;
  /** The file's own KMS stand-in, whose Sign quota a test may lower without throttling the other files. */
  readonly kms: KmsStandIn;
}

/**
 * The repayment-day job end to end, for one test file: the real handlers (repaymentDay, the worker), the same
 * state machine definition run by the local Step Functions, DynamoDB Local, the WeChat Pay simulator, and a
 * KMS stand-in of the file's own. WeChat Pay's production timeout (the tests' shorter one loses answers on a
 * busy machine) and `SIGNING_BUDGET_RPS` = `budgetRps`, shared by 8 workers that all run in this one process.
 */
export function useDayStack(budgetRps: number): DayStack {
  let h: RepaymentHarness | undefined;
  let kms: KmsStandIn | undefined;
  before(async () => {
    kms = await startKmsStandIn();
    h = await startRepaymentHarness({
      kms: kms.url,
      env: { WECHATPAY_TIMEOUT_MS: '5000', SIGNING_BUDGET_RPS: String(budgetRps) },
    });
  });
  after(async () => {
    await h?.close();
    await kms?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the day stack starts in before()');
    return value;
  };
  return {
    get h() {
      return started(h);
    },
    get kms() {
      return started(kms);
    },
  };
}

/** Every one of `ids` has exactly one deduct order at WeChat Pay. */
export function assertOneOrderEach(h: RepaymentHarness, ids: string[]): void {
  const wrong = [...ordersPerBooking(h, ids)].filter(([, n]) => n !== 1);
  assert.deepEqual(wrong, [], 'bookings without exactly one deduct order at WeChat Pay');
}

/**
 * `count` bookings due tomorrow, `perContract` on each signed contract, booked `concurrency` at a time through
 * POST /contracts/{code}/repayments (201 checked); then the clock moves to their date. Their out_record_ids.
 */
export async function seedDueBookings(
  h: RepaymentHarness,
  count: number,
  options: {
    perContract?: number;
    concurrency?: number;
    body?: Record<string, unknown>;
    /** The users' wallets keep every order PENDING: WeChat Pay takes the orders and sends no DEDUCTION_PAY. */
    hold?: boolean;
  } = {},
): Promise<string[]> {
  const perContract = options.perContract ?? 100;
  const codes: string[] = [];
  for (let i = 0; i < Math.ceil(count / perContract); i++) {
    const contract = await h.signedContract();
    if (options.hold) h.simulator.setWallet(contract.openid ?? '', { hold: 'PENDING' });
    codes.push(contract.out_contract_code);
  }
  const ids = Array.from({ length: count }, () => newRecordId('D'));
  const date = h.day(1);
  let next = 0;
  const book = async () => {
    while (next < ids.length) {
      const index = next++;
      const code = codes[Math.floor(index / perContract)] as string;
      const body = {
        out_record_id: ids[index],
        repayment_amount: '5000',
        min_repayment_amount: '1000',
        repayment_date: date,
        ...options.body,
      };
      // A busy machine may lose an answer (503): the identical request asks WeChat Pay's query, as a client would.
      let res = await h.request('POST', `/contracts/${code}/repayments`, body);
      for (let retry = 0; res.status === 503 && retry < 5; retry++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        res = await h.request('POST', `/contracts/${code}/repayments`, body);
      }
      if (res.status !== 201 && res.status !== 200) {
        throw new Error(`booking ${ids[index]}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, book));
  await h.advance(DAY_MS);
  return ids;
}

/** What the schedule does, by hand: invokes repaymentDay with `{"date"}`; the started execution's ARN. */
export async function startRun(h: RepaymentHarness, date: string): Promise<string> {
  const res = await fetch(`${h.stack.lambda.url}/2015-03-31/functions/repaymentDay/invocations`, {
    method: 'POST',
    body: JSON.stringify({ date }),
  });
  const body = (await res.json()) as { date?: string; execution_arn?: string; errorMessage?: string };
  if (!body.execution_arn) throw new Error(`repaymentDay: ${JSON.stringify(body)}`);
  return body.execution_arn;
}

/** The execution once it ended, and its output (the run record, when it succeeded). */
export async function finishedRun(
  h: RepaymentHarness,
  executionArn: string,
): Promise<{ execution: ExecutionDescription; run: Omit<DayRunRecord, 'pk'> }> {
  const execution = await h.stack.stepFunctions.finished(executionArn);
  if (execution.status !== 'SUCCEEDED') {
    throw new Error(`execution ${execution.name} ${execution.status}: ${execution.error} ${execution.cause}`);
  }
  return { execution, run: JSON.parse(execution.output ?? '{}') };
}

/** How many deduct orders WeChat Pay holds for each of `ids` (0 for none). */
export function ordersPerBooking(h: RepaymentHarness, ids: string[]): Map<string, number> {
  const counts = new Map(ids.map((id) => [id, 0]));
  for (const order of h.simulator.deductOrders()) {
    if (counts.has(order.out_record_id))
      counts.set(order.out_record_id, (counts.get(order.out_record_id) ?? 0) + 1);
  }
  return counts;
}

/**
 * Reconcile's poll after the resend grace, until no booking of `ids` waits for WeChat Pay's word about its order
 * (an answer lost or an order sent by a worker that died): each is asked about, and resent with the same id only
 * when WeChat Pay has none. Then (unless `untilSucceeded` is false) every booking is SUCCEEDED once WeChat Pay's
 * DEDUCTION_PAY arrived.
 */
export async function settleAll(
  h: RepaymentHarness,
  ids: string[],
  options: { untilSucceeded?: boolean } = {},
): Promise<void> {
  const unknown = async () =>
    [...(await h.storedMany(ids)).values()].filter((r) => r.orders.at(-1)?.order_state === 'UNKNOWN').length;
  for (let round = 0; round < 6 && (await unknown()) > 0; round++) {
    await h.advance(3 * 60_000);
    await h.reconcile(1000);
  }
  if (options.untilSucceeded === false) return;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const stored = await h.storedMany(ids);
    const open = ids.filter((id) => stored.get(id)?.state !== 'SUCCEEDED').length;
    if (open === 0) return;
    if (Date.now() > deadline) throw new Error(`${open} of ${ids.length} bookings are not SUCCEEDED`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
