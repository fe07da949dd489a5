import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { COMMAND_NAMES, COMMANDS } from '../../../../lib/commands/catalogue';
import { COMMAND_EVENT_TYPES, type CommandEvent, isCommandEvent } from '../../../../lib/commands/outcome';
import type { CommandAnswer, CommandInvocation, CommandInvoker } from '../../../../lib/commands/ports';
import { type CommandDelivery, isRetryable, runCommand, withTradeNo } from '../../../../lib/commands/run';
import {
  BookingInProgress,
  DependencyUnavailable,
  type FieldIssue,
  PresignInProgress,
  WechatPayUnavailable,
} from '../../../../lib/errors';
import { h5Body, PERSON } from '../../../support/contracts/fixtures';
import { MemoryPublisher } from '../../../support/contracts/memory-publisher';
import { checkEvent } from '../../../support/repayments/event-schemas';

const NOW = Date.parse('2026-12-02T04:00:00Z');

/** Answers each invocation with the next of `answers` (or throws it), and keeps what it was asked. */
class ScriptedInvoker implements CommandInvoker {
  readonly calls: { fn: string; invocation: CommandInvocation }[] = [];
  constructor(private readonly answers: (CommandAnswer | Error)[]) {}
  async invoke(fn: string, invocation: CommandInvocation): Promise<CommandAnswer> {
    this.calls.push({ fn, invocation });
    const next = this.answers.shift();
    if (!next) throw new Error('no more answers scripted');
    if (next instanceof Error) throw next;
    return next;
  }
}

function setup(answers: (CommandAnswer | Error)[]) {
  const invoker = new ScriptedInvoker(answers);
  const publisher = new MemoryPublisher<CommandEvent>();
  const deps = { invoker, publisher, clock: () => NOW, maxReceiveCount: 5 };
  const run = (message: unknown, receiveCount = 1, messageId = 'm-1') => {
    const delivery: CommandDelivery = {
      messageId,
      body: typeof message === 'string' ? message : JSON.stringify(message),
      receiveCount,
    };
    return runCommand(deps, delivery);
  };
  return { invoker, publisher, run };
}

const refusal = (name: string, fields: FieldIssue[] = []): CommandAnswer => ({
  error: { name, message: `${name} happened`, fields },
});

describe('runCommand', () => {
  test('a presign: invoked on presign with the body, one CommandSucceeded carrying only the allow-listed result', async () => {
    const body = h5Body();
    const { invoker, publisher, run } = setup([
      {
        result: {
          out_contract_code: body.out_contract_code,
          state: 'PRESIGNED',
          redirect_url: 'https://wx.example/sign?token=t',
          expires_at: '2026-12-02T04:10:00.000Z',
          real_name: PERSON.name,
        },
      },
    ]);
    const outcome = await run({ command: 'PresignRequested', body: { ...body, correlation_id: 'loan-1' } });
    assert.deepEqual(invoker.calls, [
      { fn: 'presign', invocation: { command: 'PresignRequested', body, correlation_id: 'loan-1' } },
    ]);
    assert.equal(outcome.status, 'succeeded');
    assert.deepEqual(publisher.events, [
      {
        type: 'CommandSucceeded',
        detail: {
          event_id: 'm-1',
          command: 'PresignRequested',
          correlation_id: 'loan-1',
          out_contract_code: body.out_contract_code,
          result: {
            state: 'PRESIGNED',
            redirect_url: 'https://wx.example/sign?token=t',
            expires_at: '2026-12-02T04:10:00.000Z',
          },
          occurred_at: new Date(NOW).toISOString(),
        },
      },
    ]);
    for (const event of publisher.events) checkEvent(event);
    const text = JSON.stringify(publisher.events);
    for (const secret of [PERSON.name, PERSON.id]) assert.ok(!text.includes(secret));
  });

  test("a deduct reports the booking's latest order; the event id is the rule's event id when it gave one", async () => {
    const { invoker, publisher, run } = setup([
      {
        result: {
          out_record_id: 'R1',
          state: 'DEDUCTING',
          orders: [
            { out_trade_no: 'T1', order_state: 'REJECTED' },
            { out_trade_no: 'T2', order_state: 'DEDUCT_ORDER_STATE_PENDING' },
          ],
        },
      },
    ]);
    await run({ command: 'DeductRequested', body: { out_record_id: 'R1' }, event_id: 'ev-9' });
    assert.equal(invoker.calls[0]?.fn, 'repayments');
    // Named after the message, so each delivery of it asks for the same order.
    const tradeNo = invoker.calls[0]?.invocation.body.out_trade_no;
    assert.match(String(tradeNo), /^D[0-9A-F]{31}$/);
    assert.equal(withTradeNo({ out_record_id: 'R1' }, 'ev-9').out_trade_no, tradeNo);
    assert.notEqual(withTradeNo({}, 'ev-10').out_trade_no, tradeNo);
    assert.deepEqual(withTradeNo({ out_trade_no: 'T9' }, 'ev-9'), { out_trade_no: 'T9' });
    const [event] = publisher.events;
    assert.ok(event);
    checkEvent(event);
    assert.equal(event.detail.event_id, 'ev-9');
    assert.deepEqual(event.detail.result, {
      state: 'DEDUCTING',
      out_trade_no: 'T2',
      order_state: 'DEDUCT_ORDER_STATE_PENDING',
    });
  });

  test('a refused body: CommandFailed at once, naming each field within the message, never a value', async () => {
    const { publisher, run } = setup([
      refusal('ValidationFailed', [
        { field: '/plan_id', issue: 'must be 1 to 64 characters' },
        { field: '', issue: 'must be a JSON object' },
      ]),
    ]);
    const outcome = await run({ command: 'PresignRequested', body: h5Body({ plan_id: '' }) });
    assert.equal(outcome.status, 'failed');
    const [event] = publisher.events;
    assert.ok(event);
    checkEvent(event);
    assert.deepEqual(event.detail.error, {
      name: 'ValidationFailed',
      fields: [
        { field: '/body/plan_id', issue: 'must be 1 to 64 characters' },
        { field: '/body', issue: 'must be a JSON object' },
      ],
    });
  });

  test('a message that cannot be read is final at once, its owner never invoked', async () => {
    const { invoker, publisher, run } = setup([]);
    const outcome = await run({ command: 'Presign', body: { real_name: PERSON.name } });
    assert.equal(outcome.status, 'failed');
    assert.equal(invoker.calls.length, 0);
    const [event] = publisher.events;
    assert.ok(event);
    checkEvent(event);
    assert.equal(event.detail.command, undefined);
    assert.deepEqual(event.detail.error?.fields?.[0]?.field, '/command');
    assert.ok(!JSON.stringify(publisher.events).includes(PERSON.name));
    await run('not json', 1, 'm-2');
    assert.equal(publisher.events[1]?.detail.error?.fields?.[0]?.field, '');
  });

  test('a refusal a retry may fix is left for another delivery until the last receive, then CommandFailed', async () => {
    const { invoker, publisher, run } = setup([
      refusal('PresignInProgress'),
      refusal('PresignInProgress'),
      refusal('PresignInProgress'),
    ]);
    const message = { command: 'PresignRequested', body: h5Body() };
    assert.deepEqual(await run(message, 1), {
      status: 'retry',
      error: 'PresignInProgress',
      labels: { command: 'PresignRequested', keys: { out_contract_code: message.body.out_contract_code } },
    });
    assert.equal((await run(message, 4)).status, 'retry');
    assert.equal(publisher.events.length, 0);
    assert.equal((await run(message, 5)).status, 'failed');
    assert.equal(invoker.calls.length, 3);
    assert.deepEqual(
      publisher.events.map((e) => [e.type, e.detail.event_id, e.detail.error?.name]),
      [['CommandFailed', 'm-1', 'PresignInProgress']],
    );
  });

  test('an owner that could not be invoked is our dependency failing: retried, then DependencyUnavailable', async () => {
    const outage = () =>
      new DependencyUnavailable('Lambda', 'Invoke presign failed: TooManyRequestsException');
    const { publisher, run } = setup([outage(), outage()]);
    const message = { command: 'SyncRequested', body: { out_contract_code: 'C1' } };
    assert.equal((await run(message, 1)).status, 'retry');
    assert.equal((await run(message, 5)).status, 'failed');
    assert.deepEqual(publisher.events[0]?.detail.error, { name: 'DependencyUnavailable' });
    assert.equal(publisher.events[0]?.detail.out_contract_code, 'C1');
  });

  test('anything else the invoker throws, and a publish that fails, leave the message for another delivery', async () => {
    const { publisher, run } = setup([new TypeError('bug'), { result: { state: 'SIGNED' } }]);
    const message = { command: 'SyncRequested', body: { out_contract_code: 'C1' } };
    await assert.rejects(run(message), TypeError);
    publisher.failNext();
    await assert.rejects(run(message), /told to fail/);
    assert.equal(publisher.events.length, 0);
  });

  test('retryable refusals: our dependencies always; in-progress claims; WeChat Pay only for a sync or a termination', () => {
    const retryable = Object.fromEntries(
      COMMAND_NAMES.map((c) => [
        c,
        [
          'DependencyUnavailable',
          'PresignInProgress',
          'BookingInProgress',
          'WechatPayUnavailable',
          'ValidationFailed',
        ].filter((name) => isRetryable(c, name)),
      ]),
    );
    assert.deepEqual(retryable, {
      PresignRequested: ['DependencyUnavailable', 'PresignInProgress'],
      AppPresignRequested: ['DependencyUnavailable', 'PresignInProgress'],
      TerminateRequested: ['DependencyUnavailable', 'WechatPayUnavailable'],
      SyncRequested: ['DependencyUnavailable', 'WechatPayUnavailable'],
      RepaymentBookingRequested: ['DependencyUnavailable', 'BookingInProgress'],
      DeductRequested: ['DependencyUnavailable'],
    });
    // Each name is that of an error the service really throws.
    const thrown = [
      new DependencyUnavailable('Lambda', 'down'),
      new PresignInProgress('C1'),
      new BookingInProgress('R1'),
      new WechatPayUnavailable('down'),
    ].map((e) => e.name);
    const listed = new Set(Object.values(COMMANDS).flatMap((route) => [...route.retryable]));
    assert.deepEqual([...listed].sort(), thrown.sort());
  });

  test('the outcome types are the ones with a schema', () => {
    for (const type of COMMAND_EVENT_TYPES) assert.ok(isCommandEvent({ type }));
    assert.ok(!isCommandEvent({ type: 'ContractSigned' }));
  });
});
