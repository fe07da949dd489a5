import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics } from '../observability';

/** What a handler is built from (lib/config builds it; a test or the local stack may build its own). */
export interface Wiring<D> {
  /** This invocation's dependencies; builders hand out the same object while nothing they depend on changed. */
  load(): Promise<D>;
  /** The default dimensions of every metric of the invocation (`stage`). */
  dimensions(): Record<string, string>;
}

export interface LambdaOptions<E, R> {
  /** `false`: never log the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says. */
  logEvent?: false;
  /** The innermost middleware, which turns errors into answers: `httpApi()` or `callbackErrors(…)`. */
  edge?: MiddlewareObj<E, R>;
}

// Powertools warns each time a default dimension is set again, so they are set only when they change.
let applied: string | undefined;

function setDefaultDimensions(dimensions: Record<string, string>): void {
  const wanted = JSON.stringify(dimensions);
  if (wanted === applied) return;
  metrics.setDefaultDimensions(dimensions);
  applied = wanted;
}

/**
 * Every function's Lambda handler: its log lines carrying the invocation's context (keys reset each time, and the
 * trace id Lambda's active tracing gives the invocation), its metrics dimensioned by `wiring` and flushed at the
 * end, success or failure.
 */
export function lambda<E, R>(
  main: (event: E, context: Context) => Promise<R>,
  wiring: Pick<Wiring<unknown>, 'dimensions'>,
  options: LambdaOptions<E, R> = {},
) {
  const handler = middy(main)
    .use(
      injectLambdaContext(logger, {
        resetKeys: true,
        ...(options.logEvent === false ? { logEvent: false } : {}),
      }),
    )
    .use({ before: () => setDefaultDimensions(wiring.dimensions()) })
    .use(logMetrics(metrics));
  return options.edge ? handler.use(options.edge) : handler;
}
