/**
 * Requests-per-second quotas for the local stand-ins, enforced as AWS and WeChat Pay do: past the rate, a call is
 * refused at once (never queued), and the refusal processed nothing. One token bucket per name, holding at most
 * one second's worth of calls, refilled continuously; so a quota of 50 allows a burst of 50, then 50 per second.
 */
export class RateLimits {
  private readonly buckets = new Map<string, { rps: number; tokens: number; at: number }>();
  private readonly refused = new Map<string, number>();

  /** `now` in milliseconds; injected so tests can step time. */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Sets several quotas (`rps` calls per second, or `null` / 0 to lift one), all or none: a bad entry changes nothing. */
  setAll(quotas: Record<string, unknown>): void {
    for (const [name, rps] of Object.entries(quotas)) {
      if (rps === null) continue;
      if (typeof rps !== 'number' || !Number.isFinite(rps) || rps < 0) {
        throw new Error(
          `quota for ${name} must be a positive number of calls per second, or null to lift it`,
        );
      }
    }
    for (const [name, rps] of Object.entries(quotas)) {
      if (rps === null || rps === 0) this.buckets.delete(name);
      else this.buckets.set(name, { rps: rps as number, tokens: rps as number, at: this.now() });
    }
  }

  /** Takes one call's token from `name`'s bucket; false when the quota is spent (the call must be refused). */
  take(name: string): boolean {
    const bucket = this.buckets.get(name);
    if (!bucket) return true;
    const now = this.now();
    bucket.tokens = Math.min(bucket.rps, bucket.tokens + ((now - bucket.at) / 1000) * bucket.rps);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return true;
    }
    this.refused.set(name, (this.refused.get(name) ?? 0) + 1);
    return false;
  }

  /** The quota set for `name`, if any. */
  quota(name: string): number | undefined {
    return this.buckets.get(name)?.rps;
  }

  /** Calls refused so far, for one name or all of them. */
  throttled(name?: string): number {
    if (name !== undefined) return this.refused.get(name) ?? 0;
    return [...this.refused.values()].reduce((sum, n) => sum + n, 0);
  }

  snapshot(): { quotas: Record<string, number>; throttled: Record<string, number> } {
    return {
      quotas: Object.fromEntries([...this.buckets].map(([name, { rps }]) => [name, rps])),
      throttled: Object.fromEntries(this.refused),
    };
  }
}
