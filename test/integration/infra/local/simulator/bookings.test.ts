import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SimulatedContract, Simulator } from '../../../../../infra/local/simulator';
import {
  call,
  type Merchant,
  newMerchant,
  type Receiver,
  startFor,
  startReceiver,
  TERMINATE,
  verifySigned,
} from './harness';
import {
  book,
  bookingBody,
  dayAfter,
  detail,
  newId,
  recordPath,
  SCHEDULE,
  sandbox,
  setDay,
  signedContract,
  TODAY,
} from './repayment-harness';

describe('simulator: booking a repayment (schedule-records)', () => {
  const m: Merchant = newMerchant();
  let sim: Simulator;
  let receiver: Receiver;
  let contract: SimulatedContract;

  before(async () => {
    sim = await startFor(m, {
      plans: [
        { plan_id: 'CONSUMER1', loan_type: 'CONSUMER_LOAN' },
        { plan_id: 'CAPPED1', loan_type: 'CASH_LOAN', repayment_amount_cap: '8000' },
      ],
    });
    receiver = await startReceiver();
    await setDay(sim);
    contract = await signedContract(sim, m, receiver.url);
  });
  after(async () => {
    await sim.close();
    await receiver.close();
  });

  const post = (body: unknown) => call(sim, m, 'POST', SCHEDULE, body);

  /** Expects PARAM_ERROR naming `field`, with an issue matching `issue`. */
  async function refused(body: unknown, field: string, issue?: RegExp) {
    const res = await post(body);
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.code, 'PARAM_ERROR', res.text);
    assert.equal(detail(res).field, field, res.text);
    if (issue) assert.match(String(detail(res).issue), issue);
  }

  it('books one item, answers it signed, and the query returns it by out_record_id and contract_id', async () => {
    const body = bookingBody(contract, { sub_appid: 'wxsub0000000001' });
    const res = await post(body);
    assert.equal(res.status, 200, res.text);
    assert.ok(verifySigned(sim.wechatpayPublicKey().pem, res.headers, res.text));
    const item = (body.schedule_items as Record<string, unknown>[])[0] ?? {};
    const expected = {
      out_record_id: item.out_record_id,
      appid: contract.appid,
      contract_id: contract.contract_id,
      repayment_amount: '10000',
      repayment_date: dayAfter(1),
      openid: contract.openid,
      sub_appid: 'wxsub0000000001',
      min_repayment_amount: '1000',
    };
    assert.deepEqual(res.json, { schedule_records: [expected] });

    const url = recordPath(String(item.out_record_id), String(contract.contract_id));
    const query = await call(sim, m, 'GET', url);
    assert.equal(query.status, 200, query.text);
    assert.ok(verifySigned(sim.wechatpayPublicKey().pem, query.headers, query.text));
    assert.deepEqual(query.json, expected);
    assert.ok(sim.requests().some((r) => r.method === 'GET' && r.url === url && r.status === 200));
    assert.equal(
      sim.scheduleRecords().find((r) => r.out_record_id === item.out_record_id)?.out_contract_code,
      contract.out_contract_code,
    );
  });

  it('the query refuses a missing contract_id and hides a record from another contract', async () => {
    const id = await book(sim, m, contract);
    const missing = await call(sim, m, 'GET', `/v3/credit-repayment/partner/schedule-records/${id}`);
    assert.equal(missing.status, 400);
    assert.deepEqual([detail(missing).field, detail(missing).location], ['contract_id', 'query']);
    const other = await call(sim, m, 'GET', recordPath(id, '20261201000000000000000000000000'));
    assert.equal(other.status, 404);
    assert.equal(other.json.code, 'RESOURCE_NOT_EXISTS');
    const bad = await call(sim, m, 'GET', recordPath('R-1', String(contract.contract_id)));
    assert.deepEqual([bad.status, detail(bad).location], [400, 'path']);
    const long = await call(sim, m, 'GET', recordPath(id, '1'.repeat(65)));
    assert.deepEqual([long.status, detail(long).field], [400, 'contract_id']);
  });

  it('accepts dates from tomorrow to 14 days ahead (Beijing, on the simulator clock) and refuses the rest', async () => {
    const field = '/schedule_items/0/repayment_date';
    await refused(bookingBody(contract, { repayment_date: TODAY }), field, /2026-12-02.*2026-12-15/);
    await refused(bookingBody(contract, { repayment_date: dayAfter(15) }), field);
    await refused(bookingBody(contract, { repayment_date: '2026-11-30' }), field);
    await refused(bookingBody(contract, { repayment_date: '2026-02-30' }), field, /不是有效的日期/);
    await refused(bookingBody(contract, { repayment_date: '2026/12/05' }), field, /yyyy-MM-dd/);
    assert.equal((await post(bookingBody(contract, { repayment_date: dayAfter(14) }))).status, 200);
    await setDay(sim, 13);
    try {
      assert.equal((await post(bookingBody(contract, { repayment_date: dayAfter(27) }))).status, 200);
      await refused(bookingBody(contract, { repayment_date: dayAfter(13) }), field);
    } finally {
      await setDay(sim);
    }
  });

  it("holds the amount to the contract's limit and the template's cap", async () => {
    const field = '/schedule_items/0/repayment_amount';
    await refused(
      bookingBody(contract, { repayment_amount: '10001' }),
      field,
      /repayment_amount_limit\(10000\)/,
    );
    const capped = await signedContract(sim, m, receiver.url, { plan_id: 'CAPPED1' });
    await refused(
      bookingBody(capped, { repayment_amount: '8001', min_repayment_amount: '1000' }),
      field,
      /模板/,
    );
    assert.equal((await post(bookingBody(capped, { repayment_amount: '8000' }))).status, 200);
  });

  it('consumer-loan templates (from the options or set later) need min_repayment_amount of at least 5 %', async () => {
    sim.setPlan({ plan_id: 'CONSUMER3', loan_type: 'CONSUMER_LOAN' });
    const field = '/schedule_items/0/min_repayment_amount';
    for (const planId of ['CONSUMER1', 'CONSUMER3']) {
      const consumer = await signedContract(sim, m, receiver.url, { plan_id: planId });
      await refused(bookingBody(consumer, { min_repayment_amount: undefined }), field, /消费贷/);
      await refused(bookingBody(consumer, { min_repayment_amount: '499' }), field, /5%/);
      assert.equal((await post(bookingBody(consumer, { min_repayment_amount: '500' }))).status, 200);
    }
  });

  it('cash-loan templates (the default) allow no minimum, and otherwise at least 10 %', async () => {
    const field = '/schedule_items/0/min_repayment_amount';
    assert.equal((await post(bookingBody(contract, { min_repayment_amount: undefined }))).status, 200);
    await refused(bookingBody(contract, { min_repayment_amount: '999' }), field, /10%/);
    await refused(bookingBody(contract, { repayment_amount: '5000', min_repayment_amount: '5001' }), field);
    assert.equal((await post(bookingBody(contract, { min_repayment_amount: '1000' }))).status, 200);
  });

  it('never accepts an out_record_id twice, not even with the same body or on another contract', async () => {
    const body = bookingBody(contract);
    assert.equal((await post(body)).status, 200);
    const again = await post(body);
    assert.equal(again.status, 400);
    assert.equal(again.json.code, 'INVALID_REQUEST');
    assert.match(String(again.json.message), /已存在/);
    const other = await signedContract(sim, m, receiver.url);
    const item = (body.schedule_items as Record<string, unknown>[])[0];
    const elsewhere = await post(bookingBody(other, { out_record_id: item?.out_record_id }));
    assert.equal(elsewhere.json.code, 'INVALID_REQUEST');
  });

  it('takes exactly one schedule item', async () => {
    const one = bookingBody(contract);
    const item = (one.schedule_items as unknown[])[0];
    await refused({ ...one, schedule_items: [] }, '/schedule_items', /仅支持1个/);
    await refused(
      { ...one, schedule_items: [item, { ...(item as object), out_record_id: newId('R') }] },
      '/schedule_items',
    );
    await refused({ ...one, schedule_items: item }, '/schedule_items', /array/);
    await refused({ ...one, schedule_items: ['R1'] }, '/schedule_items/0', /object/);
  });

  const cases: [string, Record<string, unknown>, Record<string, unknown>, string][] = [
    ['contract_id missing', {}, { contract_id: undefined }, '/contract_id'],
    ['appid too long', {}, { appid: 'w'.repeat(33) }, '/appid'],
    ['openid with a space', {}, { openid: 'o 1' }, '/openid'],
    ['schedule_items missing', {}, { schedule_items: undefined }, '/schedule_items'],
    ['an unknown top-level field', {}, { remark: 'x' }, '/remark'],
    [
      'an unknown item field (the old description)',
      { description: 'd' },
      {},
      '/schedule_items/0/description',
    ],
    ['out_record_id with a dash', { out_record_id: 'R-1' }, {}, '/schedule_items/0/out_record_id'],
    [
      'out_record_id of 33 characters',
      { out_record_id: 'R'.repeat(33) },
      {},
      '/schedule_items/0/out_record_id',
    ],
    ['sub_mchid missing', { sub_mchid: undefined }, {}, '/schedule_items/0/sub_mchid'],
    ['repayment_amount as a number', { repayment_amount: 10000 }, {}, '/schedule_items/0/repayment_amount'],
    [
      'repayment_amount with a leading zero',
      { repayment_amount: '01000' },
      {},
      '/schedule_items/0/repayment_amount',
    ],
    ['repayment_amount zero', { repayment_amount: '0' }, {}, '/schedule_items/0/repayment_amount'],
    ['repayment_amount in yuan', { repayment_amount: '100.00' }, {}, '/schedule_items/0/repayment_amount'],
    [
      'min_repayment_amount negative',
      { min_repayment_amount: '-1' },
      {},
      '/schedule_items/0/min_repayment_amount',
    ],
    ['repayment_date missing', { repayment_date: undefined }, {}, '/schedule_items/0/repayment_date'],
    ['a null', { sub_appid: null }, {}, '/schedule_items/0/sub_appid'],
  ];
  for (const [name, item, top, field] of cases) {
    it(`refuses ${name}: PARAM_ERROR naming ${field}`, async () => {
      await refused(JSON.parse(JSON.stringify(bookingBody(contract, item, top))), field);
    });
  }

  it('the booking names the contract and its own user and merchant', async () => {
    await refused(bookingBody(contract, {}, { openid: 'oSomeoneElse' }), '/openid');
    await refused(bookingBody(contract, {}, { appid: 'wxother' }), '/appid');
    await refused(bookingBody(contract, { sub_mchid: '1900000999' }), '/schedule_items/0/sub_mchid');
    const unknown = await post(
      bookingBody(contract, {}, { contract_id: '20261201999999999999999999999999' }),
    );
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.code, 'RESOURCE_NOT_EXISTS');
  });

  it('a terminated contract takes no booking', async () => {
    const ended = await signedContract(sim, m, receiver.url);
    const res = await call(sim, m, 'POST', TERMINATE, {
      out_contract_code: ended.out_contract_code,
      contract_termination_remark: '结清',
    });
    assert.equal(res.status, 200, res.text);
    const refusedBooking = await post(bookingBody(ended));
    assert.equal(refusedBooking.status, 400);
    assert.equal(refusedBooking.json.code, 'INVALID_REQUEST');
    assert.match(String(refusedBooking.json.message), /已解约/);
  });

  it('plan templates can be added over /sandbox/plans, and a bad one is refused by name', async () => {
    const added = await sandbox(sim, 'POST', '/sandbox/plans', {
      plan_id: 'CONSUMER2',
      loan_type: 'CONSUMER_LOAN',
    });
    assert.equal(added.status, 200, added.text);
    const consumer = await signedContract(sim, m, receiver.url, { plan_id: 'CONSUMER2' });
    await refused(
      bookingBody(consumer, { min_repayment_amount: undefined }),
      '/schedule_items/0/min_repayment_amount',
    );
    const bad = await sandbox(sim, 'POST', '/sandbox/plans', { plan_id: 'P', loan_type: 'MORTGAGE' });
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.message), /loan_type/);
    const listed = await sandbox(sim, 'GET', '/sandbox/plans');
    assert.ok((listed.json as unknown as { plan_id: string }[]).some((p) => p.plan_id === 'CONSUMER2'));
  });
});
