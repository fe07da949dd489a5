import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nameable, parseMessage } from '../../../../lib/commands/message';
import { h5Body, PERSON } from '../../../support/contracts/fixtures';

describe('parseMessage', () => {
  test('a command, its body and a correlation id lifted out of the body, as a rule leaves it there', () => {
    const body = h5Body();
    const parsed = parseMessage(
      JSON.stringify({
        command: 'PresignRequested',
        body: { ...body, correlation_id: 'loan-1' },
        event_id: 'e-1',
      }),
    );
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.message, {
      command: 'PresignRequested',
      body,
      correlationId: 'loan-1',
      eventId: 'e-1',
    });
    assert.deepEqual(parsed.labels.keys, { out_contract_code: body.out_contract_code });
  });

  test('a correlation id beside the body; both, when they agree', () => {
    const body = { out_contract_code: 'C1' };
    for (const message of [
      { command: 'SyncRequested', body, correlation_id: 'c-1' },
      { command: 'SyncRequested', body: { ...body, correlation_id: 'c-1' }, correlation_id: 'c-1' },
    ]) {
      const parsed = parseMessage(JSON.stringify(message));
      assert.ok(parsed.ok);
      assert.deepEqual(parsed.message, { command: 'SyncRequested', body, correlationId: 'c-1' });
    }
  });

  test('natural keys: those of the command, only when they pass their rule', () => {
    const booking = parseMessage(
      JSON.stringify({
        command: 'RepaymentBookingRequested',
        body: { out_contract_code: 'C1', out_record_id: 'R1' },
      }),
    );
    assert.deepEqual(booking.labels.keys, { out_contract_code: 'C1', out_record_id: 'R1' });
    const deduct = parseMessage(
      JSON.stringify({ command: 'DeductRequested', body: { out_record_id: 'R 1', out_contract_code: 'C1' } }),
    );
    assert.deepEqual(deduct.labels.keys, {}, 'a bad id is left off; a deduct names no contract');
  });

  test('what cannot be read is refused naming the field and the rule, never a value', () => {
    const cases: [unknown, string[]][] = [
      [`{"command":"PresignRequested","body":{"real_name":"${PERSON.name}"`, ['']],
      [[PERSON.id], ['']],
      [{ command: PERSON.name, body: {} }, ['/command']],
      [{ command: 'SyncRequested', body: [PERSON.id] }, ['/body']],
      [
        { command: 'SyncRequested', body: {}, correlation_id: PERSON.id.slice(0, 6).concat(' x') },
        ['/correlation_id'],
      ],
      [{ command: 'SyncRequested', body: { correlation_id: 7 } }, ['/body/correlation_id']],
      [
        { command: 'SyncRequested', body: { correlation_id: 'a' }, correlation_id: 'b' },
        ['/body/correlation_id'],
      ],
      [{ command: 'SyncRequested', body: {}, event_id: '' }, ['/event_id']],
      [{ command: 'SyncRequested', body: {}, [PERSON.id]: 1 }, [`/${PERSON.id}`]],
    ];
    for (const [message, fields] of cases) {
      const parsed = parseMessage(typeof message === 'string' ? message : JSON.stringify(message));
      assert.equal(parsed.ok, false, JSON.stringify(message));
      if (parsed.ok) continue;
      assert.deepEqual(
        parsed.issues.map((i) => i.field),
        fields,
      );
      const issues = JSON.stringify(parsed.issues.map((i) => i.issue));
      for (const secret of [PERSON.name, PERSON.id]) assert.ok(!issues.includes(secret), issues);
    }
  });

  test('what passed its rule is kept for the outcome of a refused message', () => {
    const parsed = parseMessage(
      JSON.stringify({
        command: 'TerminateRequested',
        body: { out_contract_code: 'C1' },
        correlation_id: 'c',
        x: 1,
      }),
    );
    assert.equal(parsed.ok, false);
    assert.deepEqual(parsed.labels, {
      command: 'TerminateRequested',
      correlationId: 'c',
      keys: { out_contract_code: 'C1' },
    });
  });
});

describe('nameable', () => {
  test("a refusal names at most 20 of the caller's keys, each cut to 64 characters, and counts the rest", () => {
    const keys = Array.from({ length: 25 }, (_, i) => `${'k'.repeat(70)}${i}`);
    const { named, unnamed } = nameable(keys);
    assert.equal(named.length, 20);
    assert.equal(unnamed, 5);
    assert.ok(named.every((key) => key === 'k'.repeat(64)));
    assert.deepEqual(nameable(['a', 'b']), { named: ['a', 'b'], unnamed: 0 });
  });

  test('a message with unknown keys names them through the same bound', () => {
    const message: Record<string, unknown> = { command: 'SyncRequested', body: { out_contract_code: 'C1' } };
    for (let i = 0; i < 30; i++) message[`x${i}`] = 1;
    const parsed = parseMessage(JSON.stringify(message));
    assert.ok(!parsed.ok);
    const unknown = parsed.issues.filter((i) => i.issue === 'is not a field of a command message');
    assert.equal(unknown.length, 20);
    assert.equal(unknown[0]?.field, '/x0');
  });
});
