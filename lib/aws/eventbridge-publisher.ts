import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE } from '../contracts/events';
import type { EventPublisher, OutboxEvent } from '../contracts/ports';
import { logger } from '../observability';
import { dependencyUnavailable } from './dependency';

/** PutEvents accepts at most 10 entries per call. */
const MAX_ENTRIES = 10;

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  async publish(events: OutboxEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += MAX_ENTRIES) {
      await this.putBatch(events.slice(start, start + MAX_ENTRIES));
    }
  }

  private async putBatch(batch: OutboxEvent[]): Promise<void> {
    const entries: PutEventsRequestEntry[] = batch.map((event) => ({
      Source: EVENT_SOURCE,
      DetailType: event.type,
      Detail: JSON.stringify(event.detail),
      EventBusName: this.eventBusName,
    }));
    let results: PutEventsResultEntry[];
    let failedCount: number;
    try {
      const output = await this.client.send(new PutEventsCommand({ Entries: entries }));
      results = output.Entries ?? [];
      failedCount = output.FailedEntryCount ?? 0;
    } catch (error) {
      throw dependencyUnavailable('EventBridge', 'PutEvents', error);
    }
    if (failedCount > 0) {
      // Result entries line up with request entries; a failed one carries ErrorCode instead of EventId.
      const failed = batch
        .map((event, i) => ({ id: event.detail.event_id, code: results[i]?.ErrorCode }))
        .filter((f) => f.code !== undefined)
        .map((f) => `${f.id} (${f.code})`);
      throw new Error(
        `EventBridge rejected ${failedCount} of ${batch.length} events on bus ${this.eventBusName}: ` +
          (failed.length > 0 ? failed.join(', ') : 'no entry says which'),
      );
    }
  }
}

/** Stands in for the bus when EVENT_BUS_NAME is unset (README, "Configuration"): each event becomes one INFO log line. */
export class LogPublisher implements EventPublisher {
  constructor(
    private readonly log: { info(message: string, extra: Record<string, unknown>): void } = logger,
  ) {}

  async publish(events: OutboxEvent[]): Promise<void> {
    for (const event of events) {
      this.log.info('contract event (EVENT_BUS_NAME unset: logged, not published)', {
        source: EVENT_SOURCE,
        detail_type: event.type,
        detail: event.detail,
      });
    }
  }
}
