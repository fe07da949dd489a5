import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { type KmsStandIn, startKmsStandIn } from '../../../infra/local/kms/server';
import type { CommandEvent } from '../../../lib/commands/outcome';
import { h5Body, PERSON } from '../../support/contracts/fixtures';
import { eventBridgeEvent, sqsRecord } from '../../support/events/aws-samples';
import { captureOutput } from '../../support/observability/output-capture';
import { checkEvent } from '../../support/repayments/event-schemas';
import { newRecordId, type RepaymentHarness, startRepaymentHarness } from '../../support/repayments/harness';

// Commands by queue: SQS batches shaped as the event source mapping delivers them, given to the commands router
// through the local stack's Lambda Invoke API; the router invokes the owning functions through that same API,
// against the simulator, DynamoDB Local and a KMS stand-in of this file's own (so it can fail without touching
// the other files'), and each outcome is read where the bus's events are: the stack's /local/events.

const CONTRACTS = '/v3/credit-repayment/partner/contracts';
const PRESIGN = `${CONTRACTS}/h5-presign`;
const TERMINATE = `${CONTRACTS}/terminate`;
const SCHEDULE = '/v3/credit-repayment/partner/schedule-records/batch-create';
const DEDUCT = '/v3/credit-repayment/partner/deduct-orders';

describe('commands by queue', () => {
  let h: RepaymentHarness;
  let kms: KmsStandIn;
  before(async () => {
    kms = await startKmsStandIn();
    h = await startRepaymentHarness({ kms: kms.url });
  });
  after(async () => {
    await h?.close();
    await kms?.close();
  });

  const message = (command: string, body: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    sqsRecord(JSON.stringify({ command, body, ...extra }));

  /** The same message delivered again, as SQS does after a reported failure or a lost delete. */
  const again = (record: SQSRecord, receiveCount: number): SQSRecord => ({
    ...record,
    attributes: { ...record.attributes, ApproximateReceiveCount: String(receiveCount) },
  });

  /** One batch through the router; the message ids it asked SQS to deliver again. */
  async function deliver(...records: SQSRecord[]): Promise<string[]> {
    const res = await fetch(`${h.stack.lambda.url}/2015-03-31/functions/commands/invocations`, {
      method: 'POST',
      body: JSON.stringify({ Records: records }),
    });
    const text = await res.text();
    assert.equal(res.headers.get('x-amz-function-error'), null, text);
    return (JSON.parse(text) as SQSBatchResponse).batchItemFailures.map((f) => f.itemIdentifier);
  }

  /** Every outcome event on /local/events so far, each checked against its schema; or those of one message. */
  async function outcomes(record?: SQSRecord): Promise<CommandEvent[]> {
    const all = (await (await fetch(`${h.stack.api.url}/local/events`)).json()) as CommandEvent[];
    const ours = all.filter((e) => e.type === 'CommandSucceeded' || e.type === 'CommandFailed');
    for (const event of ours) checkEvent(event);
    return record ? ours.filter((e) => e.detail.event_id === record.messageId) : ours;
  }

  const sent = (path: string, id: unknown) =>
    h.simulator.requests().filter((r) => r.method === 'POST' && r.url === path && r.body.includes(`"${id}"`));

  test('presign, H5 and APP: CommandSucceeded with the link; the redelivery replays; a refused body fails at once', async () => {
    const body = h5Body();
    const h5 = message('PresignRequested', { ...body, correlation_id: 'onboarding-1' });
    const app = message('AppPresignRequested', h5Body());
    assert.deepEqual(await deliver(h5, app), []);
    const [first, ...more] = await outcomes(h5);
    assert.deepEqual(more, []);
    assert.equal(first?.type, 'CommandSucceeded');
    assert.equal(first?.detail.correlation_id, 'onboarding-1');
    assert.equal(first?.detail.out_contract_code, body.out_contract_code);
    assert.equal(first?.detail.result?.state, 'PRESIGNED');
    assert.match(String(first?.detail.result?.redirect_url), /^http/);
    assert.ok((await outcomes(app))[0]?.detail.result?.presign_token);

    // The same message again (a lost delete): the identical request replays, WeChat Pay is called once.
    assert.deepEqual(await deliver(again(h5, 2)), []);
    const both = await outcomes(h5);
    assert.deepEqual(
      both.map((e) => [e.type, e.detail.event_id, e.detail.result]),
      [0, 1].map(() => ['CommandSucceeded', h5.messageId, first?.detail.result]),
      'one id: a consumer keeps the first',
    );
    assert.equal(sent(PRESIGN, body.out_contract_code).length, 1);

    const bad = message('PresignRequested', h5Body({ plan_id: '' }));
    assert.deepEqual(await deliver(bad), [], 'a refusal no retry can fix is final at once');
    const [failed] = await outcomes(bad);
    assert.equal(failed?.type, 'CommandFailed');
    assert.equal(failed?.detail.error?.name, 'ValidationFailed');
    assert.ok(
      failed?.detail.error?.fields?.some((f) => f.field === '/body/plan_id'),
      JSON.stringify(failed),
    );
    const everything = JSON.stringify(await outcomes());
    for (const secret of [PERSON.name, PERSON.id]) assert.ok(!everything.includes(secret), 'personal data');
  });

  /**
   * What the rule for `event`'s detail-type puts on the queue: its input transformer, as infra/aws/commands.yml
   * deploys it, applied to the event (EventBridge puts in the event's `detail` and `id`).
   */
  function byRule(event: { id: string; 'detail-type': string; detail: unknown }): SQSRecord {
    const rules = readFileSync(new URL('../../../infra/aws/commands.yml', import.meta.url), 'utf8');
    const template = rules.match(
      new RegExp(`InputTemplate: '(\\{"command":"${event['detail-type']}",[^']*)'`),
    )?.[1];
    assert.ok(template, `a rule for ${event['detail-type']}`);
    return sqsRecord(template.replace('<detail>', JSON.stringify(event.detail)).replace('<id>', event.id));
  }

  test("by rule: an event on the bus ends in one outcome under the event's id; EventBridge's retry replays", async () => {
    const contract = await h.signedContract();
    const code = contract.out_contract_code;
    const event = eventBridgeEvent('SyncRequested', { out_contract_code: code, correlation_id: 'loan-7' });
    // EventBridge retries a target it could not reach: a second message, the same event.
    const [first, retry] = [byRule(event), byRule(event)];
    assert.deepEqual(await deliver(first, retry), []);
    const all = await outcomes();
    const mine = all.filter((e) => e.detail.event_id === event.id);
    assert.deepEqual(
      mine.map((e) => [e.type, e.detail.correlation_id, e.detail.out_contract_code, e.detail.result?.state]),
      [0, 1].map(() => ['CommandSucceeded', 'loan-7', code, 'SIGNED']),
      'one id for both: a consumer keeps the first',
    );
    const bad = eventBridgeEvent('RepaymentBookingRequested', {
      out_contract_code: code,
      repayment_amount: 'x',
    });
    assert.deepEqual(await deliver(byRule(bad)), []);
    const [failed] = (await outcomes()).filter((e) => e.detail.event_id === bad.id);
    assert.equal(failed?.type, 'CommandFailed');
    assert.ok(
      failed?.detail.error?.fields?.some((f) => f.field === '/body/repayment_amount'),
      JSON.stringify(failed),
    );
  });

  test('sync and terminate: CommandSucceeded; the redelivered terminate replays; a bad code fails naming it', async () => {
    const contract = await h.signedContract();
    const code = contract.out_contract_code;
    const sync = message('SyncRequested', { out_contract_code: code });
    const terminate = message('TerminateRequested', {
      out_contract_code: code,
      contract_termination_remark: '客户申请解约',
    });
    assert.deepEqual(await deliver(sync), []);
    assert.deepEqual((await outcomes(sync))[0]?.detail.result, {
      state: 'SIGNED',
      contract_id: contract.contract_id,
    });
    assert.deepEqual(await deliver(terminate), []);
    assert.deepEqual(await deliver(again(terminate, 2)), []);
    assert.deepEqual(
      (await outcomes(terminate)).map((e) => [e.type, e.detail.result?.state]),
      [
        ['CommandSucceeded', 'TERMINATED'],
        ['CommandSucceeded', 'TERMINATED'],
      ],
    );
    assert.equal(sent(TERMINATE, code).length, 1);

    const bad = message('TerminateRequested', { out_contract_code: 'a-b', contract_termination_remark: 'x' });
    assert.deepEqual(await deliver(bad), []);
    const [failed] = await outcomes(bad);
    assert.deepEqual(failed?.detail.error, {
      name: 'ValidationFailed',
      fields: [{ field: '/body/out_contract_code', issue: 'must be 1 to 64 letters and digits' }],
    });
    assert.equal(failed?.detail.out_contract_code, undefined, 'a key that breaks its rule is left off');
  });

  test('booking and deduct: CommandSucceeded; redeliveries replay, one WeChat Pay call each; a bad booking fails', async () => {
    const contract = await h.signedContract();
    const id = newRecordId();
    const booking = message('RepaymentBookingRequested', {
      out_contract_code: contract.out_contract_code,
      out_record_id: id,
      repayment_amount: '5000',
      repayment_date: h.day(1),
      correlation_id: 'loan-7',
    });
    assert.deepEqual(await deliver(booking), []);
    assert.deepEqual(await deliver(again(booking, 2)), []);
    const booked = await outcomes(booking);
    assert.deepEqual(
      booked.map((e) => [e.type, e.detail.out_record_id, e.detail.correlation_id, e.detail.result?.state]),
      [0, 1].map(() => ['CommandSucceeded', id, 'loan-7', 'SCHEDULED']),
    );
    assert.equal(sent(SCHEDULE, id).length, 1);

    await h.advance(86_400_000);
    // No out_trade_no: the router names the order after the message, so its redelivery is the identical request.
    const deduct = message('DeductRequested', { out_record_id: id });
    assert.deepEqual(await deliver(deduct), []);
    assert.deepEqual(await deliver(again(deduct, 2)), []);
    const deducted = await outcomes(deduct);
    assert.equal(deducted.length, 2);
    assert.ok(
      deducted.every((e) => e.type === 'CommandSucceeded'),
      JSON.stringify(deducted),
    );
    assert.equal(deducted[0]?.detail.result?.out_trade_no, deducted[1]?.detail.result?.out_trade_no);
    assert.equal(sent(DEDUCT, id).length, 1);

    const bad = message('RepaymentBookingRequested', {
      out_contract_code: contract.out_contract_code,
      out_record_id: newRecordId(),
      repayment_amount: 'five',
      repayment_date: h.day(1),
    });
    assert.deepEqual(await deliver(bad), []);
    const [failed] = await outcomes(bad);
    assert.equal(failed?.detail.error?.name, 'ValidationFailed');
    assert.deepEqual(
      failed?.detail.error?.fields?.map((f) => f.field),
      ['/body/repayment_amount'],
    );
  });

  test('a batch of 10 holding 3 whose WeChat Pay query fails: 7 applied, exactly the 3 reported, no outcome for them yet', async () => {
    const failing = [0, 1, 2].map(() => `Q${newRecordId()}`);
    for (const code of failing) {
      h.simulator.injectFault({ path: `${CONTRACTS}/${code}`, method: 'GET', count: 100, status: 500 });
    }
    const good = Array.from({ length: 7 }, () => message('PresignRequested', h5Body()));
    const bad = failing.map((code) => message('SyncRequested', { out_contract_code: code }));
    const batch = [
      ...good.slice(0, 3),
      bad[0],
      ...good.slice(3, 5),
      bad[1],
      ...good.slice(5),
      bad[2],
    ] as SQSRecord[];
    assert.equal(batch.length, 10);
    const reported = await deliver(...batch);
    assert.deepEqual(reported.sort(), bad.map((r) => r.messageId).sort());
    for (const record of good) assert.equal((await outcomes(record))[0]?.type, 'CommandSucceeded');
    for (const record of bad) assert.deepEqual(await outcomes(record), []);

    // Their last receive: the refusal is final, one CommandFailed each, and SQS lets them go.
    assert.deepEqual(await deliver(...bad.map((r) => again(r, 5))), []);
    for (const record of bad) {
      assert.deepEqual(
        (await outcomes(record)).map((e) => e.detail.error?.name),
        ['WechatPayUnavailable'],
      );
    }
  });

  test('a dependency outage (KMS): the command is delivered again and its outcome published once', async () => {
    const presign = message('PresignRequested', h5Body());
    kms.injectFault({ operation: 'Sign', count: 3, kind: 'unavailable' });
    assert.deepEqual(await deliver(presign), [presign.messageId]);
    assert.deepEqual(await outcomes(presign), []);
    assert.deepEqual(await deliver(again(presign, 2)), []);
    assert.deepEqual(
      (await outcomes(presign)).map((e) => [e.type, e.detail.result?.state]),
      [['CommandSucceeded', 'PRESIGNED']],
    );

    const lasting = message('PresignRequested', h5Body());
    kms.injectFault({ operation: 'Sign', count: 3, kind: 'unavailable' });
    assert.deepEqual(await deliver(again(lasting, 5)), [], 'the last receive lets it go');
    assert.deepEqual(
      (await outcomes(lasting)).map((e) => [e.type, e.detail.error?.name]),
      [['CommandFailed', 'DependencyUnavailable']],
    );
  });

  /** The visibility changes the router made for `record`'s receipt handles, in seconds. */
  const delays = (...records: SQSRecord[]) => {
    const handles = new Set(records.map((r) => r.receiptHandle));
    return h.stack.sqs
      .changes()
      .filter((c) => handles.has(c.receiptHandle))
      .map((c) => c.visibilityTimeout);
  };

  /** A redelivery gets a new receipt handle from SQS. */
  const received = (record: SQSRecord, receiveCount: number): SQSRecord => ({
    ...again(record, receiveCount),
    receiptHandle: `${record.receiptHandle}-${receiveCount}`,
  });

  test("a retried command comes back in seconds: its visibility set by receive count, on the queue's own URL", async () => {
    const code = `Q${newRecordId()}`;
    h.simulator.injectFault({ path: `${CONTRACTS}/${code}`, method: 'GET', count: 100, status: 500 });
    const sync = sqsRecord(JSON.stringify({ command: 'SyncRequested', body: { out_contract_code: code } }));
    assert.deepEqual(await deliver(sync), [sync.messageId]);
    const [first] = delays(sync);
    assert.ok(first !== undefined && first >= 12 && first <= 18, `receive 1: ${first} s`);
    const second = received(sync, 2);
    assert.deepEqual(await deliver(second), [sync.messageId]);
    const [then] = delays(second);
    assert.ok(then !== undefined && then >= 48 && then <= 72, `receive 2: ${then} s`);
    const change = h.stack.sqs.changes().find((c) => c.receiptHandle === sync.receiptHandle);
    const [, , , region, account, name] = sync.eventSourceARN.split(':');
    assert.equal(change?.queueUrl, `https://sqs.${region}.amazonaws.com/${account}/${name}`);

    // The last receive: CommandFailed, and nothing to hold back.
    const last = received(sync, 5);
    assert.deepEqual(await deliver(last), []);
    assert.deepEqual(
      (await outcomes(sync)).map((e) => [e.type, e.detail.error?.name]),
      [['CommandFailed', 'WechatPayUnavailable']],
    );
    assert.deepEqual(delays(last), []);
  });

  test("SQS answering 500: the message is still reported, with a warning, and comes back after the queue's timeout", async () => {
    const code = `Q${newRecordId()}`;
    h.simulator.injectFault({ path: `${CONTRACTS}/${code}`, method: 'GET', count: 100, status: 500 });
    const sync = sqsRecord(JSON.stringify({ command: 'SyncRequested', body: { out_contract_code: code } }));
    // Two attempts (the SDK's retry): both fail.
    h.stack.sqs.injectFault(2);
    const output = captureOutput();
    let reported: string[];
    try {
      reported = await deliver(sync);
    } finally {
      output.stop();
    }
    assert.deepEqual(reported, [sync.messageId]);
    assert.deepEqual(delays(sync), []);
    assert.deepEqual(await outcomes(sync), []);
    const warning = output
      .logs()
      .find(
        (l) => l.level === 'WARN' && l.message_id === sync.messageId && /redelivery/.test(String(l.message)),
      );
    assert.ok(warning, output.text());
    assert.match(JSON.stringify(warning?.error), /InternalError|500/);
  });

  test('the router takes only an SQS batch: an EventBridge event is refused, naming what it takes', async () => {
    const res = await fetch(`${h.stack.lambda.url}/2015-03-31/functions/commands/invocations`, {
      method: 'POST',
      body: JSON.stringify(eventBridgeEvent('SyncRequested', { out_contract_code: 'C1' })),
    });
    const body = (await res.json()) as { errorType: string; errorMessage: string };
    assert.equal(res.headers.get('x-amz-function-error'), 'Unhandled');
    assert.equal(body.errorType, 'ValidationFailed');
    assert.match(body.errorMessage, /it takes an SQS batch of commands/);
  });
});
