import type { KeyObject } from 'node:crypto';
import { type Clock, systemClock } from './clock';
import { Verifier } from './verifier';

export type KeyEntry = readonly [serial: string, key: KeyObject | string];

export interface RefreshingVerifierOptions {
  /**
   * Downloads, verifies and stores the platform certificates; returns them all. Absent (public-key mode only):
   * there is nothing to learn, so `learn` resolves at once.
   */
  refresh?: () => Promise<Iterable<KeyEntry>>;
  /** Default 60 000: at most one refresh a minute, however many unknown serials arrive. */
  minIntervalMs?: number;
  /** A failed refresh is reported here; the serial then stays unknown and its verification fails. */
  onRefreshFailed?: (error: unknown, serial: string) => void;
  clock?: Clock;
  maxSkewSeconds?: number;
}

// Platform certificate serials are hex. A `PUB_KEY_ID_…` (or anything else) cannot come from a download: those
// keys come from configuration, so they never cost a call to WeChat Pay.
const CERTIFICATE_SERIAL = /^[0-9A-Fa-f]{1,64}$/;
const SERIAL_HEADER = 'wechatpay-serial';

/**
 * A Verifier that, in certificate mode, learns WeChat Pay's new platform certificate when a callback names a
 * serial it does not know: one refresh, shared by every caller waiting on it, and no new one within
 * `minIntervalMs` of the last, so forged serials cannot make us hammer WeChat Pay. Verification itself stays
 * the synchronous `verify` of Verifier; `learn` only runs before it.
 */
export class RefreshingVerifier extends Verifier {
  readonly #refresh: (() => Promise<Iterable<KeyEntry>>) | undefined;
  readonly #minIntervalMs: number;
  readonly #onRefreshFailed: (error: unknown, serial: string) => void;
  readonly #clock: Clock;
  #lastRefreshAt: number | undefined;
  #inflight: Promise<void> | undefined;

  constructor(keys: Iterable<KeyEntry>, options: RefreshingVerifierOptions) {
    const clock = options.clock ?? systemClock;
    super(keys, { clock, maxSkewSeconds: options.maxSkewSeconds });
    this.#refresh = options.refresh;
    this.#minIntervalMs = options.minIntervalMs ?? 60_000;
    this.#onRefreshFailed = options.onRefreshFailed ?? (() => {});
    this.#clock = clock;
  }

  /**
   * Resolves once the `Wechatpay-Serial` of `headers` (any case) is known, or once it is clear it will not be
   * now: no such header, not a certificate serial, a refresh ran less than `minIntervalMs` ago, the refresh
   * failed or did not list it. Never rejects: `verify` then says why it fails.
   */
  async learn(headers: Record<string, string | string[] | undefined>): Promise<void> {
    const found = Object.entries(headers).find(([name]) => name.toLowerCase() === SERIAL_HEADER)?.[1];
    return this.#learn(typeof found === 'string' ? found : undefined);
  }

  async #learn(serial: string | undefined): Promise<void> {
    const refresh = this.#refresh;
    if (!refresh || !serial || this.has(serial) || !CERTIFICATE_SERIAL.test(serial)) return;
    if (this.#inflight) return this.#inflight;
    const now = this.#clock();
    if (this.#lastRefreshAt !== undefined && now - this.#lastRefreshAt < this.#minIntervalMs) return;
    this.#lastRefreshAt = now;
    this.#inflight = this.#run(refresh, serial).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #run(refresh: () => Promise<Iterable<KeyEntry>>, serial: string): Promise<void> {
    try {
      for (const [known, key] of await refresh()) this.add(known, key);
    } catch (error) {
      this.#onRefreshFailed(error, serial);
    }
  }
}
