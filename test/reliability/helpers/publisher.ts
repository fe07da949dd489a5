import type { EventPublisher } from '../../../lib/contracts/ports';
import type { ServiceEvent } from '../../../lib/repayments/events';

export type Crash = 'before-publish' | 'after-publish';

/**
 * The outbox's destination (a list stands in for EventBridge), with a switch that crashes the publish function
 * on a given contract's events: before its PutEvents, or after it but before the stream position is
 * checkpointed, so that the change is delivered again.
 */
export class CrashingPublisher implements EventPublisher {
  readonly published: ServiceEvent[] = [];
  readonly #crashes = new Map<string, Crash[]>();

  /** The next `times` publish calls carrying an event of `code` crash `when`. */
  crash(code: string, when: Crash, times: number): void {
    this.#crashes.set(code, Array<Crash>(times).fill(when));
  }

  async publish(events: ServiceEvent[]): Promise<void> {
    const code = events.find((e) => this.#crashes.get(e.detail.out_contract_code ?? '')?.length)?.detail
      .out_contract_code;
    const crash = code === undefined ? undefined : this.#crashes.get(code)?.shift();
    if (crash === 'before-publish') throw new Error('publish function crashed before PutEvents (injected)');
    this.published.push(...events);
    if (crash === 'after-publish') throw new Error('publish function crashed after PutEvents (injected)');
  }
}
