import type { EventPublisher, OutboxEvent } from '../../../lib/contracts/ports';
import type { ServiceEvent } from '../../../lib/repayments/events';

/** Records what was published; `failNext` makes the next calls throw, as an unreachable bus would. */
export class MemoryPublisher<E extends OutboxEvent = ServiceEvent> implements EventPublisher<E> {
  /** Every event published successfully, in order. */
  readonly events: E[] = [];
  /** Every call, failed ones included: proves what a retry re-sent. */
  readonly attempts: { events: E[]; failed: boolean }[] = [];
  private failures = 0;

  failNext(calls = 1): this {
    this.failures = calls;
    return this;
  }

  async publish(events: E[]): Promise<void> {
    const copy = structuredClone(events);
    const failed = this.failures > 0;
    this.attempts.push({ events: copy, failed });
    if (failed) {
      this.failures--;
      throw new Error(`MemoryPublisher told to fail (${this.failures} more failures to come)`);
    }
    this.events.push(...copy);
  }
}
