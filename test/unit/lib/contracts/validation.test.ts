import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validatePresign } from '../../../../lib/contracts/validation';
import { ValidationFailed } from '../../../../lib/errors';
import { h5Body, PERSON, withIdentity } from '../../../support/contracts/fixtures';

function fieldsOf(kind: 'H5' | 'APP', body: unknown): Record<string, string> {
  try {
    validatePresign(kind, body);
  } catch (error) {
    assert.ok(error instanceof ValidationFailed, `expected ValidationFailed, got ${String(error)}`);
    return Object.fromEntries(error.errors.map((e) => [e.field, e.issue]));
  }
  assert.fail('expected the body to be refused');
}

test('a complete H5 body is accepted as is', () => {
  const body = h5Body({
    trade_info: { out_trade_no: 'T1', deduct_amount: 100 },
    jump_info: { jump_appid: 'wx1' },
  });
  assert.deepEqual(validatePresign('H5', body), body);
});

test('each documented rule names its field with a JSON pointer', () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ out_contract_code: 'has-dash' }, '/out_contract_code', /letters and digits/],
    [{ out_contract_code: 'x'.repeat(65) }, '/out_contract_code', /at most 64/],
    [{ display_name: '张三丰' }, '/display_name', /masked/],
    [{ display_name: '*三' }, '/display_name', /masked form of real_identity.real_name/],
    [{ repayment_day: 0 }, '/repayment_day', /between 1 and 31/],
    [{ repayment_day: 32 }, '/repayment_day', /between 1 and 31/],
    [{ repayment_day: 1.5 }, '/repayment_day', /integer/],
    [{ repayment_amount_limit: 10000 }, '/repayment_amount_limit', /must be a string/],
    [{ repayment_amount_limit: '-1' }, '/repayment_amount_limit', /positive integer/],
    [{ repayment_amount_limit: '1.5' }, '/repayment_amount_limit', /positive integer/],
    [{ appid: undefined }, '/appid', /is required/],
    [{ plan_id: null }, '/plan_id', /must not be null/],
    [{ contract_notify_url: 'https://x.example/n' }, '/contract_notify_url', /service sets it/],
    [{ surprise: 1 }, '/surprise', /not a known field/],
    [{ sub_mchid: 'abc' }, '/sub_mchid', /digits/],
    [{ appid: 'wx😀' }, '/appid', /letters, digits/],
    [{ trade_info: { out_trade_no: 'T1', deduct_amount: -5 } }, '/trade_info/deduct_amount', /positive/],
    [
      { trade_info: { out_trade_no: 'T1', deduct_amount: 5, notify_url: 'http://x.example' } },
      '/trade_info/notify_url',
      /https/,
    ],
    [
      { trade_info: { out_trade_no: 'T1', deduct_amount: 5, description: '还款🙂' } },
      '/trade_info/description',
      /emoji/,
    ],
  ];
  for (const [override, field, issue] of cases) {
    const fields = fieldsOf('H5', h5Body(override));
    assert.ok(
      fields[field],
      `${JSON.stringify(override)} should fail ${field}; got ${JSON.stringify(fields)}`,
    );
    assert.match(fields[field] ?? '', issue);
  }
});

test('identity rules: type enum, ID check digit, name length; messages never echo the values', () => {
  const badId = `${PERSON.id.slice(0, 17)}${PERSON.id[17] === '1' ? '2' : '1'}`;
  const fields = fieldsOf(
    'H5',
    withIdentity({ identity_type: 'REAL_IDENTITY_TYPE_INVALID', identity_id: badId }),
  );
  assert.match(fields['/real_identity/identity_type'] ?? '', /REAL_IDENTITY_TYPE_ID_CARD/);
  assert.match(fields['/real_identity/identity_id'] ?? '', /check digit/);
  const all = JSON.stringify(fields);
  assert.ok(!all.includes(badId) && !all.includes(PERSON.name), 'no personal data in the issues');
});

test('APP presign has no jump_info; a non-object body is refused at the root', () => {
  assert.match(
    fieldsOf('APP', h5Body({ jump_info: { jump_appid: 'wx1' } }))['/jump_info'] ?? '',
    /not a known field/,
  );
  assert.match(fieldsOf('H5', [1, 2])[''] ?? '', /object/);
  assert.match(fieldsOf('H5', 'x')[''] ?? '', /object/);
});

test('a one-character real name is masked as itself, as WeChat Pay documents; anything else is refused', () => {
  const one = withIdentity({ real_name: '伟' });
  assert.doesNotThrow(() => validatePresign('H5', { ...one, display_name: '伟' }));
  assert.deepEqual(Object.keys(fieldsOf('H5', { ...one, display_name: '*伟' })), ['/display_name']);
  assert.deepEqual(Object.keys(fieldsOf('H5', { ...one, display_name: '伟伟' })), ['/display_name']);
});
