import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { h5Body, PERSON } from '../../support/contracts/fixtures';
import { eventBridgeEvent, OTHER_ENVELOPES, sqsEvent } from '../../support/events/aws-samples';
import { newRecordId, type RepaymentHarness, startRepaymentHarness } from '../../support/repayments/harness';

// The functions targeted by EventBridge rules: each command arrives as the envelope a rule delivers, through the
// local stack's Lambda Invoke API (RequestResponse), against the simulator, DynamoDB Local and the KMS stand-in.

const PRESIGN = '/v3/credit-repayment/partner/contracts/h5-presign';
const SCHEDULE = '/v3/credit-repayment/partner/schedule-records/batch-create';
const DEDUCT = '/v3/credit-repayment/partner/deduct-orders';

describe('commands by EventBridge event', () => {
  let h: RepaymentHarness;
  before(async () => {
    h = await startRepaymentHarness();
  });
  after(async () => {
    await h?.close();
  });

  async function invoke(
    fn: string,
    event: unknown,
  ): Promise<{ error?: string; body: Record<string, unknown> }> {
    const res = await fetch(`${h.stack.lambda.url}/2015-03-31/functions/${fn}/invocations`, {
      method: 'POST',
      body: JSON.stringify(event),
    });
    const body = JSON.parse(await res.text()) as Record<string, unknown>;
    const error = res.headers.get('x-amz-function-error') ? String(body.errorType) : undefined;
    return error ? { error, body } : { body };
  }

  const sent = (path: string, id: string) =>
    h.simulator.requests().filter((r) => r.method === 'POST' && r.url === path && r.body.includes(`"${id}"`));

  test('PresignRequested presigns; the identical redelivery replays without a second WeChat Pay call', async () => {
    const body = h5Body();
    const event = eventBridgeEvent('PresignRequested', { ...body, correlation_id: 'onboarding-1' });
    const first = await invoke('presign', event);
    assert.equal(first.error, undefined, JSON.stringify(first.body));
    assert.equal(first.body.state, 'PRESIGNED');
    assert.ok(first.body.redirect_url);
    assert.deepEqual((await invoke('presign', event)).body, first.body);
    assert.equal(sent(PRESIGN, String(body.out_contract_code)).length, 1);
  });

  test('AppPresignRequested presigns through the APP API', async () => {
    const result = await invoke('presign', eventBridgeEvent('AppPresignRequested', h5Body()));
    assert.equal(result.body.state, 'PRESIGNED', JSON.stringify(result.body));
    assert.ok(result.body.presign_token);
  });

  test('a bad detail is ValidationFailed naming the field, never echoing personal data', async () => {
    const { error, body } = await invoke(
      'presign',
      eventBridgeEvent('PresignRequested', h5Body({ plan_id: '' })),
    );
    assert.equal(error, 'ValidationFailed');
    assert.match(String(body.errorMessage), /\/plan_id/);
    for (const secret of [PERSON.name, PERSON.id]) assert.ok(!JSON.stringify(body).includes(secret));
  });

  test('a detail-type the function does not own is refused naming the ones it takes', async () => {
    const { error, body } = await invoke('presign', eventBridgeEvent('TerminateRequested', {}));
    assert.equal(error, 'ValidationFailed');
    assert.match(
      String(body.errorMessage),
      /detail-type is not a command of this function; it takes PresignRequested, AppPresignRequested/,
    );
    const other = await invoke('contracts', eventBridgeEvent('PresignRequested', h5Body()));
    assert.match(String(other.body.errorMessage), /it takes TerminateRequested, SyncRequested/);
  });

  test('SyncRequested and TerminateRequested act on a signed contract; a bad code is named', async () => {
    const contract = await h.signedContract();
    const code = contract.out_contract_code;
    const synced = await invoke('contracts', eventBridgeEvent('SyncRequested', { out_contract_code: code }));
    assert.equal(synced.body.state, 'SIGNED', JSON.stringify(synced.body));
    const stray = await invoke(
      'contracts',
      eventBridgeEvent('SyncRequested', { out_contract_code: code, x: 1 }),
    );
    assert.deepEqual(
      [stray.error, /\/x is not a field of SyncRequested/.test(String(stray.body.errorMessage))],
      ['ValidationFailed', true],
    );
    const bad = await invoke(
      'contracts',
      eventBridgeEvent('TerminateRequested', { out_contract_code: 'a-b' }),
    );
    assert.equal(bad.error, 'ValidationFailed');
    assert.match(String(bad.body.errorMessage), /\/out_contract_code must be 1 to 64 letters and digits/);
    const terminated = await invoke(
      'contracts',
      eventBridgeEvent('TerminateRequested', {
        out_contract_code: code,
        contract_termination_remark: '客户申请解约',
      }),
    );
    assert.equal(terminated.body.state, 'TERMINATED', JSON.stringify(terminated.body));
  });

  test('RepaymentBookingRequested books, DeductRequested deducts; identical redeliveries call WeChat Pay once each', async () => {
    const contract = await h.signedContract();
    const id = newRecordId();
    const booking = eventBridgeEvent('RepaymentBookingRequested', {
      out_contract_code: contract.out_contract_code,
      out_record_id: id,
      repayment_amount: '5000',
      repayment_date: h.day(1),
      correlation_id: 'loan-7',
    });
    const booked = await invoke('repayments', booking);
    assert.equal(booked.body.state, 'SCHEDULED', JSON.stringify(booked.body));
    assert.deepEqual((await invoke('repayments', booking)).body, booked.body);
    assert.equal(sent(SCHEDULE, id).length, 1);

    await h.advance(86_400_000);
    // With its own out_trade_no a deduct's redelivery is an identical request, answered from our record.
    const tradeNo = newRecordId('D');
    const deduct = eventBridgeEvent('DeductRequested', { out_record_id: id, out_trade_no: tradeNo });
    const first = await invoke('repayments', deduct);
    assert.equal(first.error, undefined, JSON.stringify(first.body));
    assert.equal(first.body.out_record_id, id);
    const again = await invoke('repayments', deduct);
    assert.equal(again.error, undefined, JSON.stringify(again.body));
    const orders = again.body.orders as { out_trade_no: string }[];
    assert.deepEqual(
      orders.map((o) => o.out_trade_no),
      [tradeNo],
    );
    // Without one, each delivery asks for a new order: refused while the first may still succeed.
    const fresh = await invoke('repayments', eventBridgeEvent('DeductRequested', { out_record_id: id }));
    assert.ok(
      ['DeductionInProgress', 'RepaymentStateConflict'].includes(String(fresh.error)),
      JSON.stringify(fresh.body),
    );
    assert.equal(sent(DEDUCT, id).length, 1);

    const bad = await invoke(
      'repayments',
      eventBridgeEvent('DeductRequested', { out_record_id: 'x'.repeat(33) }),
    );
    assert.equal(bad.error, 'ValidationFailed');
    assert.match(String(bad.body.errorMessage), /\/out_record_id is required/);
  });

  test('an SQS batch or an unknown envelope is refused, naming its top-level keys only', async () => {
    const batch = await invoke('repayments', sqsEvent('{}'));
    assert.equal(batch.error, 'ValidationFailed');
    assert.match(String(batch.body.errorMessage), /an SQS batch is not taken by this function/);
    for (const fn of ['presign', 'contracts', 'repayments']) {
      const sns = await invoke(fn, OTHER_ENVELOPES.SNS);
      assert.equal(sns.error, 'ValidationFailed');
      assert.match(
        String(sns.body.errorMessage),
        /is not an event this service takes .*; its top-level keys: "Records"$/,
      );
    }
  });
});
