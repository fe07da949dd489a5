import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readCommandSettings } from '../../../../lib/config/command-settings';

describe('readCommandSettings', () => {
  it('needs the function prefix; five receives and no bus by default', () => {
    assert.deepEqual(readCommandSettings({ COMMAND_FUNCTION_PREFIX: 'svc-prod-' }), {
      functionPrefix: 'svc-prod-',
      maxReceiveCount: 5,
    });
    assert.throws(() => readCommandSettings({}), /missing configuration: COMMAND_FUNCTION_PREFIX /);
  });

  it('reads the receive count and the bus; refuses a count SQS would not take', () => {
    assert.deepEqual(
      readCommandSettings({
        COMMAND_FUNCTION_PREFIX: 'p-',
        COMMAND_MAX_RECEIVE_COUNT: '3',
        EVENT_BUS_NAME: 'b',
      }),
      { functionPrefix: 'p-', maxReceiveCount: 3, eventBusName: 'b' },
    );
    for (const count of ['0', 'five', '1001']) {
      assert.throws(
        () => readCommandSettings({ COMMAND_FUNCTION_PREFIX: 'p-', COMMAND_MAX_RECEIVE_COUNT: count }),
        /invalid configuration: COMMAND_MAX_RECEIVE_COUNT/,
      );
    }
  });
});
