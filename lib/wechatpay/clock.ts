/** Epoch milliseconds. Injected wherever time matters so skew checks and timestamps are testable. */
export type Clock = () => number;

export const systemClock: Clock = Date.now;
