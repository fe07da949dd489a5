import type { Clock } from '../wechatpay/clock';

/**
 * The one cache policy of the composition root, for everything a function reuses from one invocation to the next:
 * - one value at a time, kept under the key it was made from: another key replaces it;
 * - reused for at most `maxAgeMs` on the injected clock (`Infinity`: for as long as the key holds);
 * - a failed load is never kept, so the next invocation tries again;
 * - callers arriving while a load runs share it.
 * What is read from outside the process (SSM, Secrets Manager, the stored platform certificates) ages out after
 * KEY_MATERIAL_MAX_AGE_S; what is built from it (a function's dependencies) is keyed by it, so it is
 * rebuilt exactly when its inputs change.
 */
export class Cached<T> {
  readonly #clock: Clock;
  #entry: { key: string; at: number; value: Promise<T> } | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get(key: string, maxAgeMs: number, load: () => T | Promise<T>): Promise<T> {
    const now = this.#clock();
    const entry = this.#entry;
    if (entry && entry.key === key && now - entry.at < maxAgeMs) return entry.value;
    const value = (async () => load())();
    this.#entry = { key, at: now, value };
    value.catch(() => {
      if (this.#entry?.value === value) this.#entry = undefined;
    });
    return value;
  }

  /** Replaces the value with one just read (a refresh's result is the freshest there is). */
  set(key: string, value: T): void {
    this.#entry = { key, at: this.#clock(), value: Promise.resolve(value) };
  }
}
