import type { Clock } from './clock';
import type { Signer } from './signer';

/**
 * Paces calls to WeChat Pay under a budget of signatures per second. Every call is one KMS `Sign`, and KMS's RSA
 * request quota is shared by the whole account and Region, so a job that takes all of it starves presign. The
 * pacer starts at the budget (`ceilingRps`), halves its rate on a throttle (KMS `ThrottlingException`, WeChat
 * Pay `429`), at most once per `cooldownMs` so one burst of refusals counts as one signal, and climbs back by
 * `increaseRps` per second of calls while nothing throttles: additive increase, multiplicative decrease.
 */
export interface PacerOptions {
  ceilingRps: number;
  /** Never slower than this (default 1 call per second), so a job always progresses. */
  floorRps?: number;
  /** Rate regained per second of unthrottled calls (default a tenth of the ceiling). */
  increaseRps?: number;
  /** Factor applied on a throttle (default 0.5). */
  decrease?: number;
  cooldownMs?: number;
  now?: Clock;
  sleep?: (ms: number) => Promise<void>;
}

export class Pacer {
  #rate: number;
  #next = 0;
  #lastDecrease = Number.NEGATIVE_INFINITY;
  readonly #ceiling: number;
  readonly #floor: number;
  readonly #increase: number;
  readonly #decrease: number;
  readonly #cooldownMs: number;
  readonly #now: Clock;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: PacerOptions) {
    if (!(options.ceilingRps > 0)) {
      throw new RangeError(`ceilingRps ${options.ceilingRps} must be a positive number of calls per second`);
    }
    this.#ceiling = options.ceilingRps;
    this.#floor = Math.min(options.floorRps ?? 1, this.#ceiling);
    this.#increase = options.increaseRps ?? this.#ceiling / 10;
    this.#decrease = options.decrease ?? 0.5;
    this.#cooldownMs = options.cooldownMs ?? 1000;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#rate = this.#ceiling;
  }

  /** Calls per second the pacer allows now. */
  get rate(): number {
    return this.#rate;
  }

  /** Resolves when the next call may start; callers that share the pacer are spaced `1 / rate` apart. */
  async slot(): Promise<void> {
    const now = this.#now();
    const at = Math.max(now, this.#next);
    this.#next = at + 1000 / this.#rate;
    if (at > now) await this.#sleep(at - now);
  }

  /** A call went through: climb back towards the ceiling. */
  succeeded(): void {
    this.#rate = Math.min(this.#ceiling, this.#rate + this.#increase / this.#rate);
  }

  /** A call was refused for its rate: slow down (once per cooldown) and push the next slot out accordingly. */
  throttled(): void {
    const now = this.#now();
    if (now - this.#lastDecrease < this.#cooldownMs) return;
    this.#lastDecrease = now;
    this.#rate = Math.max(this.#floor, this.#rate * this.#decrease);
    this.#next = Math.max(this.#next, now + 1000 / this.#rate);
  }
}

/**
 * A signer that waits for the pacer before each signature, so signatures (and so WeChat Pay calls) stay under
 * the budget; `isThrottle` recognises the signer's own refusal for rate (the KMS adapter's), which slows the pacer.
 */
export class PacedSigner implements Signer {
  constructor(
    private readonly signer: Signer,
    private readonly pacer: Pacer,
    private readonly isThrottle: (error: unknown) => boolean,
  ) {}

  async sign(message: Buffer): Promise<string> {
    await this.pacer.slot();
    try {
      const signature = await this.signer.sign(message);
      this.pacer.succeeded();
      return signature;
    } catch (error) {
      if (this.isThrottle(error)) this.pacer.throttled();
      throw error;
    }
  }
}
