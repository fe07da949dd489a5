/**
 * Optimistic concurrency, the one way the use cases change a stored record: read it, decide from what was read,
 * then write on the condition that nothing changed since (the store compares versions). When someone else wrote
 * first, read again and decide again, from the new record. Concurrent writers on one record are rare (a callback,
 * a sync and a reconcile run at once), so a few attempts settle them; past that, give up loudly, never loop.
 */
export const MAX_WRITE_ATTEMPTS = 5;

/** What `decide` concluded from one read: the answer without writing, or the write to attempt. */
export type Decision<Write, Result> = { readonly done: Result } | { readonly write: Write };

export interface ReadDecideWrite<Current, Write, Result> {
  read(): Promise<Current>;
  decide(current: Current): Decision<Write, Result>;
  /** The conditional write of `write`, decided from `current`: its result, or undefined when someone wrote first. */
  write(write: Write, current: Current): Promise<Result | undefined>;
}

/**
 * Runs `step` until a decision needs no write or a write lands, at most MAX_WRITE_ATTEMPTS times; then throws
 * an Error whose message is `gaveUp` (e.g. "contract C1 kept changing during sync") and the attempt count.
 */
export async function readDecideWrite<Current, Write, Result>(
  step: ReadDecideWrite<Current, Write, Result>,
  gaveUp: string,
): Promise<Result> {
  for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
    const current = await step.read();
    const decision = step.decide(current);
    if ('done' in decision) return decision.done;
    const written = await step.write(decision.write, current);
    if (written !== undefined) return written;
  }
  throw new Error(`${gaveUp} (${MAX_WRITE_ATTEMPTS} attempts)`);
}
