import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeHandler } from '../../../functions/commands';
import type { CommandEvent } from '../../../lib/commands/outcome';
import type { CommandAnswer, CommandInvocation, RunCommandDeps } from '../../../lib/commands/ports';
import { wiring } from '../../support/config/wiring';
import { MemoryPublisher } from '../../support/contracts/memory-publisher';
import { eventBridgeEvent, sqsRecord } from '../../support/events/aws-samples';
import { lambdaContext } from '../../support/wechatpay/callbacks';

/** Answers each sync by its code: `retry-…` codes are refused with a retryable error, the rest succeed. */
function deps(): RunCommandDeps & { publisher: MemoryPublisher<CommandEvent>; invoked: string[] } {
  const invoked: string[] = [];
  return {
    invoked,
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

const sync = (code: string, group?: string) => {
  const record = sqsRecord(JSON.stringify({ command: 'SyncRequested', body: { out_contract_code: code } }));
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

  it('takes nothing but an SQS batch', async () => {
    await assert.rejects(
      makeHandler(wiring(deps()))(eventBridgeEvent('SyncRequested', {}), lambdaContext('commands')),
      /this event is not taken by this function; it takes an SQS batch of commands/,
    );
  });
});
