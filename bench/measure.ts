import { measure } from 'mitata';

const ROUNDS = 5;

/**
 * This process's CPU time (all threads), in nanoseconds, as mitata's clock. The machine's cores are shared
 * with whatever else runs; CPU time is not inflated by waiting for a core the way wall time is, and on an idle
 * machine the two agree for this synchronous, in-memory work. Resolution 1 µs; mitata batches what is faster.
 */
const cpuClock = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
};

/**
 * mitata's median (p50) of one function, in microseconds of CPU time. `repeat` > 1 times that many calls per
 * sample, for functions slow enough that mitata times them one by one: the clock's 1 µs then stays small.
 */
export async function medianUs(fn: () => unknown, repeat = 1): Promise<number> {
  const stats = await measure(repeat === 1 ? fn : repeated(fn, repeat), { now: cpuClock });
  return stats.p50 / 1000 / repeat;
}

function repeated(fn: () => unknown, times: number): () => unknown {
  return () => {
    const first = fn();
    if (first instanceof Promise) {
      return (async () => {
        await first;
        for (let i = 1; i < times; i++) await fn();
      })();
    }
    for (let i = 1; i < times; i++) fn();
    return first;
  };
}

export interface Comparison<K extends string> {
  /** Each case's median over the rounds of its per-round p50, in microseconds. */
  us: Record<K, number>;
  /** Each case's per-round p50s, in run order. */
  rounds: Record<K, number[]>;
}

/**
 * Measures the cases interleaved round by round, so that a slow patch of the machine (another process,
 * frequency scaling) lands on every case instead of on one of them, and keeps each case's median round.
 */
export async function compare<K extends string>(
  cases: Record<K, () => unknown>,
  options: { rounds?: number; repeat?: number } = {},
): Promise<Comparison<K>> {
  const { rounds = ROUNDS, repeat = 1 } = options;
  const names = Object.keys(cases) as K[];
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < rounds; round++) {
    // Each round starts with the next case, so that no case always follows the same one (and its garbage).
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length] as K;
      samples[name].push(await medianUs(cases[name], repeat));
    }
  }
  const us = Object.fromEntries(names.map((n) => [n, median(samples[n])])) as Record<K, number>;
  return { us, rounds: samples };
}

/** The lowest and highest round-by-round ratio of `a` to `b`: whether a ratio near 1 is a tie. */
export function ratioRange(a: readonly number[], b: readonly number[]): [number, number] {
  const ratios = a.map((x, i) => x / (b[i] as number));
  return [round(Math.min(...ratios), 3), round(Math.max(...ratios), 3)];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));
