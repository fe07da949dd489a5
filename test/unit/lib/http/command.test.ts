import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ContractCodeUsed, DependencyUnavailable, ValidationFailed } from '../../../../lib/errors';
import { httpApi } from '../../../../lib/http/api';
import { commandRefusal, eventCommand, invokedCommand } from '../../../../lib/http/command';
import { lambda } from '../../../../lib/http/lambda';
import { wiring } from '../../../support/config/wiring';
import { eventBridgeEvent } from '../../../support/events/aws-samples';
import { lambdaContext } from '../../../support/wechatpay/callbacks';

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

describe('invokedCommand: {command, body, correlation_id?}', () => {
  test('the command, the body as its fields, the correlation id beside them', () => {
    assert.deepEqual(
      invokedCommand(
        { command: 'SyncRequested', body: { out_contract_code: 'C1' }, correlation_id: 'c-1' },
        OWNED,
      ),
      { command: 'SyncRequested', fields: { out_contract_code: 'C1' }, correlationId: 'c-1' },
    );
  });

  test('a command of another function, a body that is no object, a stray key: each named, never echoed', () => {
    assert.deepEqual(
      refusal(() => invokedCommand({ command: 'PresignRequested', body: {} }, OWNED)).map((i) => i.field),
      ['/command'],
    );
    assert.deepEqual(
      refusal(() => invokedCommand({ command: 'SyncRequested', body: 'x' }, OWNED)),
      [{ field: '/body', issue: 'must be a JSON object' }],
    );
    assert.deepEqual(
      refusal(() => invokedCommand({ command: 'SyncRequested', body: {}, extra: 1 }, OWNED)),
      [{ field: '/extra', issue: 'is not a field of a command' }],
    );
  });
});

describe('a named command answers its refusals', () => {
  test('{error: {name, message, fields}}; a 5xx with the fixed sentence, not its AWS text', () => {
    assert.deepEqual(commandRefusal(new ValidationFailed([{ field: '/a', issue: 'is required' }])), {
      error: {
        name: 'ValidationFailed',
        message: 'request is invalid: /a is required',
        fields: [{ field: '/a', issue: 'is required' }],
      },
    });
    assert.equal(commandRefusal(new ContractCodeUsed('C1', 'SIGNED')).error.name, 'ContractCodeUsed');
    const unavailable = commandRefusal(new DependencyUnavailable('DynamoDB', 'arn:aws:dynamodb:… throttled'));
    assert.deepEqual(unavailable.error, {
      name: 'DependencyUnavailable',
      message: 'a dependency of the service is unavailable; retry shortly',
      fields: [],
    });
  });

  test('the edge answers a service error of a named command, and lets a crash and other invocations throw', async () => {
    let thrown: Error = new ContractCodeUsed('C1', 'SIGNED');
    const handler = lambda(
      async () => {
        throw thrown;
      },
      wiring(undefined),
      { edge: httpApi() },
    );
    const command = { command: 'SyncRequested', body: {} };
    assert.deepEqual(
      await handler(command, lambdaContext()),
      commandRefusal(new ContractCodeUsed('C1', 'SIGNED')),
    );
    await assert.rejects(handler({ out_contract_code: 'C1' }, lambdaContext()), { name: 'ContractCodeUsed' });
    thrown = new TypeError('bug');
    await assert.rejects(handler(command, lambdaContext()), TypeError);
  });
});
