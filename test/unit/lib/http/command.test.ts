import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationFailed } from '../../../../lib/errors';
import { eventCommand } from '../../../../lib/http/command';
import { eventBridgeEvent } from '../../../support/events/aws-samples';

const OWNED = ['TerminateRequested', 'SyncRequested'] as const;

function refusal(run: () => unknown): { field: string; issue: string }[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ValidationFailed, String(error));
    return error.errors;
  }
  assert.fail('expected ValidationFailed');
}

describe('eventCommand', () => {
  test('the detail-type names the command; correlation_id is lifted out of the detail', () => {
    const event = eventBridgeEvent('SyncRequested', {
      out_contract_code: 'C1',
      correlation_id: 'order-42:a.b_c',
    });
    assert.deepEqual(eventCommand(event, OWNED), {
      command: 'SyncRequested',
      fields: { out_contract_code: 'C1' },
      correlationId: 'order-42:a.b_c',
    });
    assert.deepEqual(eventCommand(eventBridgeEvent('TerminateRequested', { a: 1 }), OWNED), {
      command: 'TerminateRequested',
      fields: { a: 1 },
    });
  });

  test('a detail-type the function does not own is refused naming the ones it takes, not echoing it', () => {
    const [issue] = refusal(() => eventCommand(eventBridgeEvent('PresignRequested', {}), OWNED));
    assert.equal(issue?.field, 'detail-type');
    assert.match(issue?.issue ?? '', /takes TerminateRequested, SyncRequested$/);
    assert.ok(!issue?.issue.includes('PresignRequested'));
  });

  test('a detail that is not an object is refused', () => {
    for (const detail of [null, [], 'x', 1]) {
      assert.deepEqual(
        refusal(() => eventCommand(eventBridgeEvent('SyncRequested', detail), OWNED)),
        [{ field: 'detail', issue: 'must be a JSON object' }],
      );
    }
  });

  test('a correlation_id that is not a short printable token is refused', () => {
    for (const id of ['', 'a b', 'x'.repeat(129), 7, '名字']) {
      const [issue] = refusal(() =>
        eventCommand(eventBridgeEvent('SyncRequested', { correlation_id: id }), OWNED),
      );
      assert.equal(issue?.field, '/correlation_id');
    }
  });
});
