import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { makeHandler } from '../../../functions/commands';
import type { CommandEvent } from '../../../lib/commands/outcome';
import type {
  CommandAnswer,
  CommandInvocation,
  CommandRouterDeps,
  QueuedMessage,
} from '../../../lib/commands/ports';
import { logger } from '../../../lib/observability';
import { wiring } from '../../support/config/wiring';
import { MemoryPublisher } from '../../support/contracts/memory-publisher';
import { eventBridgeEvent, sqsRecord } from '../../support/events/aws-samples';
import { lambdaContext } from '../../support/wechatpay/callbacks';

interface Delayed {
  receiptHandle: string;
  seconds: number;
}

/**
 * Answers each sync by its code: `retry-…` codes are refused with a retryable error, the rest succeed. Records
 * each visibility change; `sqsDown` makes every change fail.
 */
function deps(sqsDown = false): CommandRouterDeps & {
  publisher: MemoryPublisher<CommandEvent>;
  invoked: string[];
  delayed: Delayed[];
} {
  const invoked: string[] = [];
  const delayed: Delayed[] = [];
  return {
    invoked,
    delayed,
    redelivery: {
      async delay(message: QueuedMessage, seconds: number) {
        if (sqsDown) throw new Error('SQS is down');
        delayed.push({ receiptHandle: message.receiptHandle, seconds });
      },
    },
    invoker: {
      async invoke(_fn, invocation: CommandInvocation): Promise<CommandAnswer> {
        const code = String(invocation.body.out_contract_code);
        invoked.push(code);
        return code.startsWith('retry')
          ? { error: { name: 'WechatPayUnavailable', message: 'down', fields: [] } }
          : { result: { out_contract_code: code, state: 'SIGNED' } };
      },
    },
    publisher: new MemoryPublisher<CommandEvent>(),
    clock: () => Date.parse('2026-12-02T04:00:00Z'),
    maxReceiveCount: 5,
  };
}

const sync = (code: string, group?: string, receiveCount = 1) => {
  const record = sqsRecord(
    JSON.stringify({ command: 'SyncRequested', body: { out_contract_code: code } }),
    receiveCount,
  );
  if (!group) return record;
  return {
    ...record,
    attributes: { ...record.attributes, MessageGroupId: group },
    eventSourceARN: `${record.eventSourceARN}.fifo`,
  };
};

describe('commands router', () => {
  it('reports exactly the messages to deliver again; the others each published their outcome', async () => {
    const d = deps();
    const records = [sync('ok1'), sync('retry1'), sync('ok2'), sync('retry2')];
    const answer = await makeHandler(wiring(d))({ Records: records }, lambdaContext('commands'));
    assert.deepEqual(answer, {
      batchItemFailures: [
        { itemIdentifier: records[1]?.messageId },
        { itemIdentifier: records[3]?.messageId },
      ],
    });
    assert.deepEqual(
      d.publisher.events.map((e) => [e.type, e.detail.out_contract_code]),
      [
        ['CommandSucceeded', 'ok1'],
        ['CommandSucceeded', 'ok2'],
      ],
    );
  });

  it('a whole batch to deliver again is an answer too, not a function error', async () => {
    const records = [sync('retry1')];
    const answer = await makeHandler(wiring(deps()))({ Records: records }, lambdaContext('commands'));
    assert.deepEqual(answer, { batchItemFailures: [{ itemIdentifier: records[0]?.messageId }] });
  });

  it('from a FIFO queue, a message left for another delivery holds back the rest of its group only', async () => {
    const d = deps();
    const records = [sync('retryA', 'A'), sync('okB', 'B'), sync('okA', 'A'), sync('okB2', 'B')];
    const answer = await makeHandler(wiring(d))({ Records: records }, lambdaContext('commands'));
    assert.deepEqual(answer, {
      batchItemFailures: [
        { itemIdentifier: records[0]?.messageId },
        { itemIdentifier: records[2]?.messageId },
      ],
    });
    assert.deepEqual(d.invoked, ['retryA', 'okB', 'okB2'], 'in order, one at a time; okA never tried');
  });

  it('holds each reported message back by its receive count; the last receive and the published keep the default', async () => {
    const d = deps();
    const records = [sync('retry1'), sync('ok1'), sync('retry2', undefined, 2), sync('retry5', undefined, 5)];
    const answer = await makeHandler(wiring(d))({ Records: records }, lambdaContext('commands'));
    assert.deepEqual(
      answer.batchItemFailures.map((f) => f.itemIdentifier),
      [records[0]?.messageId, records[2]?.messageId],
      'on its last receive the refusal is final: CommandFailed, not reported',
    );
    const by = new Map(d.delayed.map((c) => [c.receiptHandle, c.seconds]));
    assert.equal(d.delayed.length, 2, JSON.stringify(d.delayed));
    const first = by.get(records[0]?.receiptHandle as string) ?? 0;
    const second = by.get(records[2]?.receiptHandle as string) ?? 0;
    assert.ok(first >= 12 && first <= 18, `receive 1: ${first} s`);
    assert.ok(second >= 48 && second <= 72, `receive 2: ${second} s`);
  });

  it('the outcome not published: the message is reported and held back like a refusal', async () => {
    const d = deps();
    d.publisher.failNext(1);
    const records = [sync('ok1')];
    const answer = await makeHandler(wiring(d))({ Records: records }, lambdaContext('commands'));
    assert.deepEqual(answer, { batchItemFailures: [{ itemIdentifier: records[0]?.messageId }] });
    assert.equal(d.delayed.length, 1);
  });

  it('SQS refusing the change leaves the answer as it was, with a warning', async () => {
    const d = deps(true);
    const warned = mock.method(logger, 'warn', () => undefined);
    try {
      const records = [sync('retry1'), sync('ok1')];
      const answer = await makeHandler(wiring(d))({ Records: records }, lambdaContext('commands'));
      assert.deepEqual(answer, { batchItemFailures: [{ itemIdentifier: records[0]?.messageId }] });
      const messages = warned.mock.calls.map((c) => String(c.arguments[0]));
      assert.ok(
        messages.some((m) => /comes back after the queue's visibility timeout/.test(m)),
        messages.join('\n'),
      );
    } finally {
      warned.mock.restore();
    }
  });

  it("from a FIFO queue, a group's held-back messages take its first one's delay, so it comes back whole", async () => {
    const d = deps();
    const records = [sync('retryA', 'A', 2), sync('okB', 'B'), sync('okA', 'A', 1), sync('okA2', 'A', 1)];
    const answer = await makeHandler(wiring(d))({ Records: records }, lambdaContext('commands'));
    assert.equal(answer.batchItemFailures.length, 3);
    assert.deepEqual(
      d.delayed.map((c) => c.receiptHandle).sort(),
      [records[0], records[2], records[3]].map((r) => r?.receiptHandle).sort(),
    );
    assert.equal(new Set(d.delayed.map((c) => c.seconds)).size, 1, JSON.stringify(d.delayed));
    assert.ok((d.delayed[0]?.seconds ?? 0) >= 48, 'the delay of the first, on its second receive');
  });

  it('takes nothing but an SQS batch', async () => {
    await assert.rejects(
      makeHandler(wiring(deps()))(eventBridgeEvent('SyncRequested', {}), lambdaContext('commands')),
      /this event is not taken by this function; it takes an SQS batch of commands/,
    );
  });
});
