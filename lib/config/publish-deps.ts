import { eventBridgeClient } from '../aws/eventbridge-client';
import { EventBridgePublisher, LogPublisher } from '../aws/eventbridge-publisher';
import type { OutboxDeps } from '../contracts/outbox';
import type { EventPublisher, Outbox } from '../contracts/ports';
import type { Wiring } from '../http/lambda';
import { Cached } from './cache';
import { processRuntime, type Runtime, wire } from './runtime';
import { readEventSettings } from './settings';

/**
 * The stream publisher's dependencies, in a module that loads no DynamoDB client: publish needs DynamoDB only
 * when the bus refuses an event (it keeps it in the outbox) or a stored entry was published (it forgets it), so
 * its cold start loads EventBridge's client alone (bench/README.md, cold load). The outbox sweep, which reads the
 * outbox on every run, wires the same with its adapter loaded at once (`outboxDeps` in deps.ts).
 */

export type PublishDeps = OutboxDeps;

/**
 * The bus (with EVENT_BUS_NAME unset, events are logged, not published; a runtime may bring its own publisher) and
 * the outbox `outboxOf` makes for the contracts table.
 */
export function eventDeps(runtime: Runtime, outboxOf: (table: string) => Outbox): Wiring<PublishDeps> {
  const built = new Cached<PublishDeps>(runtime.clock);
  return wire(runtime, async () => {
    const { eventBusName, contractsTable } = readEventSettings(runtime.env);
    return built.get(`${eventBusName ?? ''} ${contractsTable}`, Number.POSITIVE_INFINITY, () => ({
      publisher: eventPublisher(runtime, eventBusName),
      outbox: outboxOf(contractsTable),
      clock: runtime.clock,
    }));
  });
}

/**
 * The bus (with EVENT_BUS_NAME unset, events are logged, not published), or the runtime's own publisher: where the
 * outbox's events go, and the commands router's outcomes.
 */
export function eventPublisher(runtime: Runtime, eventBusName: string | undefined): EventPublisher {
  return (
    runtime.publisher ??
    (eventBusName ? new EventBridgePublisher(eventBridgeClient(), eventBusName) : new LogPublisher())
  );
}

/** The DynamoDB outbox of `table`, its adapter and client imported on its first call. */
function lazyOutbox(table: string): Outbox {
  let loaded: Promise<Outbox> | undefined;
  const outbox = () => {
    loaded ??= Promise.all([import('../aws/dynamo-outbox'), import('../aws/dynamodb-client')]).then(
      ([{ DynamoOutbox }, { dynamoDocumentClient }]) => new DynamoOutbox(dynamoDocumentClient(), table),
    );
    return loaded;
  };
  return {
    keep: async (events, error, now, at) => (await outbox()).keep(events, error, now, at),
    due: async (now, limit) => (await outbox()).due(now, limit),
    remove: async (event) => (await outbox()).remove(event),
    postpone: async (entry, at, error) => (await outbox()).postpone(entry, at, error),
  };
}

export function publishDeps(runtime: Runtime = processRuntime): Wiring<PublishDeps> {
  return eventDeps(runtime, lazyOutbox);
}
