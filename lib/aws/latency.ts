import { type LatencyMetric, recordMetric } from '../metrics';

/** The part of an AWS SDK v3 client this needs: its middleware stack. */
interface WithMiddleware {
  middlewareStack: {
    add(
      middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/**
 * Records every call's duration, retries included, as the EMF metric `metric` (milliseconds): dependency
 * latency (KMS, DynamoDB, EventBridge) is what a slow presign or callback is usually made of.
 */
export function timed<C>(client: C, metric: LatencyMetric): C {
  (client as unknown as WithMiddleware).middlewareStack.add(
    (next) => async (args) => {
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        recordMetric(metric, performance.now() - started);
      }
    },
    { step: 'initialize', name: `${metric}Timer` },
  );
  return client;
}

/** The same for WeChat Pay: a `fetch` that records each attempt's duration. */
export function timedFetch(metric: LatencyMetric): typeof fetch {
  return async (input, init) => {
    const started = performance.now();
    try {
      return await fetch(input, init);
    } finally {
      recordMetric(metric, performance.now() - started);
    }
  };
}
