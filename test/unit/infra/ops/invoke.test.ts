import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommand } from '../../../../infra/ops/invoke';

describe('the operator commands (npm run notifications | outbox)', () => {
  it('invokes the local stack’s function by its key without --stage', () => {
    assert.deepEqual(parseCommand(['notifications', 'list']), {
      functionName: 'notifications',
      payload: { command: 'list' },
      local: true,
    });
    assert.deepEqual(parseCommand(['outbox', 'replay']), {
      functionName: 'outbox',
      payload: { command: 'replay' },
      local: true,
    });
  });

  it('invokes the deployed function of a stage, wherever --stage stands', () => {
    assert.deepEqual(parseCommand(['notifications', 'apply', '--stage', 'prod', 'N1', 'N2']), {
      functionName: 'wechatpay-credit-repayment-prod-notifications',
      payload: { command: 'apply', ids: ['N1', 'N2'] },
      local: false,
    });
    assert.deepEqual(parseCommand(['outbox', 'list', '--stage', 'dev']), {
      functionName: 'wechatpay-credit-repayment-dev-outbox',
      payload: { command: 'list' },
      local: false,
    });
  });

  it('applies every kept notification without ids, and pages a list with --cursor', () => {
    assert.deepEqual(parseCommand(['notifications', 'apply']).payload, { command: 'apply' });
    assert.deepEqual(parseCommand(['notifications', 'list', '--cursor', 'eyJ']).payload, {
      command: 'list',
      cursor: 'eyJ',
    });
    assert.deepEqual(
      parseCommand(['notifications', 'list', '--repayment-cursor', 'eyR', '--cursor', 'eyJ']).payload,
      { command: 'list', cursor: 'eyJ', repayment_cursor: 'eyR' },
    );
  });

  it('refuses what it does not know, saying what it does', () => {
    assert.throws(
      () => parseCommand(['outbox', 'apply']),
      /unknown command "outbox apply": use notifications/,
    );
    assert.throws(() => parseCommand([]), /unknown command "": use/);
    assert.throws(() => parseCommand(['outbox', 'list', '--stage']), /--stage needs a stage name/);
    assert.throws(
      () => parseCommand(['notifications', 'list', '--cursor']),
      /--cursor needs the cursor a list printed/,
    );
    assert.throws(
      () => parseCommand(['notifications', 'list', '--repayment-cursor']),
      /--repayment-cursor needs the repayment_cursor a list printed/,
    );
  });
});
