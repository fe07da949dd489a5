export const FAULT_KINDS = ['throttle', 'unavailable', 'hang'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export interface Fault {
  operation: string;
  count: number;
  kind: FaultKind;
}

/** Per-operation call counts and queued faults; faults for one operation apply in the order injected. */
export class Faults {
  private readonly queued = new Map<string, { kind: FaultKind; remaining: number }[]>();
  private readonly counts = new Map<string, number>();

  constructor(private readonly operations: readonly string[]) {}

  inject(fault: unknown): void {
    const { operation, count, kind } = (fault ?? {}) as Partial<Record<keyof Fault, unknown>>;
    if (typeof operation !== 'string' || !this.operations.includes(operation)) {
      throw new Error(
        `fault operation ${String(operation)} is unknown (known: ${this.operations.join(', ')})`,
      );
    }
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
      throw new Error(`fault count ${String(count)} must be a positive integer`);
    }
    if (!FAULT_KINDS.includes(kind as FaultKind)) {
      throw new Error(`fault kind ${String(kind)} is unknown (known: ${FAULT_KINDS.join(', ')})`);
    }
    const queue = this.queued.get(operation) ?? [];
    queue.push({ kind: kind as FaultKind, remaining: count });
    this.queued.set(operation, queue);
  }

  /** Counts one call of `operation` and returns the fault it must suffer, if any. */
  take(operation: string): FaultKind | undefined {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
    const next = this.queued.get(operation)?.[0];
    if (!next) return undefined;
    next.remaining -= 1;
    if (next.remaining === 0) this.queued.get(operation)?.shift();
    return next.kind;
  }

  calls(operation?: string): number {
    if (operation !== undefined) return this.counts.get(operation) ?? 0;
    return [...this.counts.values()].reduce((sum, n) => sum + n, 0);
  }

  byOperation(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
