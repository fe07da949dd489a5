import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationFailed } from '../../../../lib/errors';
import { decodeInbound } from '../../../../lib/http/inbound';
import {
  apiGatewayV2Event,
  eventBridgeEvent,
  OTHER_ENVELOPES,
  sqsEvent,
} from '../../../support/events/aws-samples';

describe('decodeInbound', () => {
  test('an HTTP API (payload 2.0) request', () => {
    const event = apiGatewayV2Event('POST /contracts/h5-presign', {});
    assert.deepEqual(decodeInbound(event), { kind: 'api', event });
  });

  test('an EventBridge event', () => {
    const event = eventBridgeEvent('PresignRequested', { out_contract_code: 'C1' });
    assert.deepEqual(decodeInbound(event), { kind: 'eventbridge', event });
  });

  test('an SQS batch', () => {
    const event = sqsEvent('{"command":"SyncRequested"}', '{}');
    assert.deepEqual(decodeInbound(event), { kind: 'sqs', event });
  });

  test('a named command: `command` at the top level', () => {
    const invocation = { command: 'SyncRequested', body: { out_contract_code: 'C1' } };
    assert.deepEqual(decodeInbound(invocation), { kind: 'command', invocation });
  });

  test('a command body, and anything that is not an object, is a direct invocation', () => {
    for (const body of [{ out_contract_code: 'C1', kind: 'APP' }, {}, [], null, 'text', 42]) {
      assert.deepEqual(decodeInbound(body), { kind: 'direct', body });
    }
  });

  for (const [name, envelope] of Object.entries(OTHER_ENVELOPES)) {
    test(`${name}: refused, naming its top-level keys`, () => {
      assert.throws(
        () => decodeInbound(envelope),
        (error: unknown) => {
          assert.ok(error instanceof ValidationFailed);
          const [issue] = error.errors;
          assert.equal(issue?.field, '');
          for (const key of Object.keys(envelope)) assert.ok(issue?.issue.includes(`"${key}"`), key);
          return true;
        },
      );
    });
  }

  test('a refusal names keys, never values, and at most 20 of them', () => {
    const secret = '110101199003074477';
    const event: Record<string, unknown> = { Records: [{ eventSource: 'aws:kinesis', data: secret }] };
    for (let i = 0; i < 30; i++) event[`k${i}`] = secret;
    assert.throws(
      () => decodeInbound(event),
      (error: unknown) => {
        assert.ok(error instanceof ValidationFailed);
        assert.ok(!error.message.includes(secret), 'a value is echoed');
        assert.match(error.message, /"Records", "k0"/);
        assert.match(error.message, / and 11 more/);
        assert.ok(!error.message.includes('"k19"'));
        return true;
      },
    );
  });

  test('an SQS-like batch with a record of another source is refused', () => {
    const event = sqsEvent('{}');
    const mixed = { Records: [...event.Records, { ...event.Records[0], eventSource: 'aws:sns' }] };
    assert.throws(() => decodeInbound(mixed), ValidationFailed);
    assert.throws(() => decodeInbound({ Records: [] }), ValidationFailed);
  });
});
