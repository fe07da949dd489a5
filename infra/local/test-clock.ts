/**
 * The local stack's one test clock, in the manner of Stripe's test clocks: real time plus an offset that only
 * grows. `POST /local/clock` advances it, so a token lapse, a reconcile age or a re-check cycle is reached in
 * seconds instead of minutes or days. The offset lives in memory only: a restart is back on real time.
 */
/** Ten years: far enough for any cycle the service has, near enough that dates stay ordinary. */
const MAX_ADVANCE_S = 10 * 365 * 86_400;

export class TestClock {
  private offsetMs = 0;
  private readonly listeners: (() => void)[] = [];

  /** Epoch milliseconds on the test clock; an arrow property so it can be handed around as a `Clock`. */
  readonly now = (): number => Date.now() + this.offsetMs;

  /** How far ahead of real time the clock runs, in whole seconds. */
  get offsetSeconds(): number {
    return this.offsetMs / 1000;
  }

  /**
   * Moves the clock forward by whole seconds. Never back: records, tokens and schedules were written on this
   * clock, and time running backwards would let a lapsed token or a past reconcile age come back to life.
   */
  advance(seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_ADVANCE_S) {
      throw new RangeError(
        `must be a whole number of seconds from 0 to ${MAX_ADVANCE_S} (10 years); the test clock never goes back`,
      );
    }
    this.offsetMs += seconds * 1000;
    for (const listener of this.listeners) listener();
  }

  /** Called after every advance, so the schedules re-plan their next runs. */
  onAdvance(listener: () => void): void {
    this.listeners.push(listener);
  }
}
