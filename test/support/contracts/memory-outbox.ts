import type { Outbox, OutboxEntry, OutboxEvent } from '../../../lib/contracts/ports';
import type { ServiceEvent } from '../../../lib/repayments/events';

/** The outbox in memory, with DynamoOutbox's semantics (one entry per event, by id here); for unit tests. */
export class MemoryOutbox implements Outbox {
  readonly entries = new Map<string, OutboxEntry>();

  async keep(events: ServiceEvent[], error: string, now: number, at: number): Promise<void> {
    for (const event of events) {
      const kept = this.entries.get(event.detail.event_id);
      this.entries.set(event.detail.event_id, {
        event: kept?.event ?? structuredClone(event),
        attempts: (kept?.attempts ?? 0) + 1,
        next_attempt_at: new Date(at).toISOString(),
        created_at: kept?.created_at ?? new Date(now).toISOString(),
        last_error: error,
      });
    }
  }

  async due(now: string, limit: number): Promise<OutboxEntry[]> {
    return [...this.entries.values()]
      .filter((e) => e.next_attempt_at <= now)
      .sort((a, b) => a.next_attempt_at.localeCompare(b.next_attempt_at))
      .slice(0, limit)
      .map((e) => structuredClone(e));
  }

  async remove(event: OutboxEvent): Promise<void> {
    this.entries.delete(event.detail.event_id);
  }

  async postpone(entry: OutboxEntry, at: number, error: string): Promise<void> {
    const kept = this.entries.get(entry.event.detail.event_id);
    if (!kept) return;
    kept.attempts += 1;
    kept.next_attempt_at = new Date(at).toISOString();
    kept.last_error = error;
  }
}
