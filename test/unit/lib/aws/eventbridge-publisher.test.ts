import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgePublisher, LogPublisher } from '../../../../lib/aws/eventbridge-publisher';
import type { ContractEvent } from '../../../../lib/contracts/events';
import { DependencyUnavailable } from '../../../../lib/errors';

const BUS = 'credit-repayment-test';

function event(n: number): ContractEvent {
  return {
    type: 'ContractSigned',
    detail: {
      event_id: `C${n}:3`,
      out_contract_code: `C${n}`,
      state: 'SIGNED',
      previous_state: 'PRESIGNED',
      contract_id: `CID${n}`,
      occurred_at: '2026-01-01T00:00:00.000Z',
    },
  };
}

const events = (count: number) => Array.from({ length: count }, (_, i) => event(i + 1));

describe('EventBridgePublisher', () => {
  const client = new EventBridgeClient({ region: 'ap-southeast-1' });
  const eventBridge = mockClient(client);
  const publisher = new EventBridgePublisher(client, BUS);

  beforeEach(() => {
    eventBridge.reset();
  });

  it('puts each event with our source, its type as detail-type and its JSON detail, on the bus', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    await publisher.publish([event(1)]);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]?.args[0].input.Entries, [
      {
        Source: 'wechatpay.credit-repayment',
        DetailType: 'ContractSigned',
        Detail: JSON.stringify(event(1).detail),
        EventBusName: BUS,
      },
    ]);
  });

  it('sends at most 10 entries per PutEvents call, in order', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: `e${i}` })),
    }));
    await publisher.publish(events(23));
    const batches = eventBridge
      .commandCalls(PutEventsCommand)
      .map((call) => (call.args[0].input.Entries ?? []).map((e) => JSON.parse(e.Detail ?? '{}').event_id));
    assert.deepEqual(
      batches.map((b) => b.length),
      [10, 10, 3],
    );
    assert.deepEqual(
      batches.flat(),
      events(23).map((e) => e.detail.event_id),
    );
  });

  it('makes no call for no events', async () => {
    await publisher.publish([]);
    assert.equal(eventBridge.commandCalls(PutEventsCommand).length, 0);
  });

  it('throws naming the event_ids and error codes of entries EventBridge refused', async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 2,
      Entries: [
        { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' },
        { EventId: 'e2' },
        { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' },
      ],
    });
    await assert.rejects(publisher.publish(events(3)), {
      message: `EventBridge rejected 2 of 3 events on bus ${BUS}: C1:3 (ThrottlingException), C3:3 (InternalFailure)`,
    });
  });

  it('stops at the first failed batch, so a retry resends from there', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] })
      .resolves({ FailedEntryCount: 0, Entries: [] });
    await assert.rejects(publisher.publish(events(12)), /rejected 1 of 10 events/);
    assert.equal(eventBridge.commandCalls(PutEventsCommand).length, 1);
  });

  it('turns SDK failures into DependencyUnavailable naming EventBridge and PutEvents', async () => {
    const failure = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    eventBridge.on(PutEventsCommand).rejects(failure);
    const error = await publisher.publish([event(1)]).catch((e: unknown) => e);
    assert.ok(error instanceof DependencyUnavailable);
    assert.equal(error.name, 'DependencyUnavailable');
    assert.equal(
      error.message,
      'EventBridge unavailable: PutEvents failed: ThrottlingException: Rate exceeded',
    );
    assert.equal(error.cause, failure);
  });
});

describe('LogPublisher', () => {
  it('logs each event at INFO with its source, type and detail', async () => {
    const lines: [string, Record<string, unknown>][] = [];
    const publisher = new LogPublisher({ info: (message, extra) => lines.push([message, extra]) });
    await publisher.publish([event(1), event(2)]);
    assert.deepEqual(
      lines.map(([message, extra]) => [message.startsWith('contract event'), extra]),
      [1, 2].map((n) => [
        true,
        { source: 'wechatpay.credit-repayment', detail_type: 'ContractSigned', detail: event(n).detail },
      ]),
    );
  });
});
