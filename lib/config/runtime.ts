import type { EventPublisher } from '../contracts/ports';
import type { Wiring } from '../http/lambda';
import { type Clock, systemClock } from '../wechatpay/clock';
import { Cached } from './cache';
import { PlatformCertificates } from './platform-certificates';
import type { KeyCache } from './secrets';
import { readStage } from './settings';

/**
 * What every function's dependencies are built from, and what they share within one process: the environment
 * (read on every invocation, so a changed variable takes effect at the next one), the clock of the service's
 * time, the cached key material and the platform certificates.
 */
export interface Runtime {
  readonly env: NodeJS.ProcessEnv;
  readonly clock: Clock;
  readonly keys: KeyCache;
  readonly certificates: PlatformCertificates;
  /** Where events go instead of the bus: the local stack keeps them in memory. */
  readonly publisher?: EventPublisher;
}

export interface RuntimeOptions {
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default: the system clock. The local stack passes a clock it can move. */
  clock?: Clock;
  /** Default: EventBridge (EVENT_BUS_NAME), or the log when it is unset. */
  publisher?: EventPublisher;
}

export function createRuntime(options: RuntimeOptions = {}): Runtime {
  const clock = options.clock ?? systemClock;
  return {
    env: options.env ?? process.env,
    clock,
    keys: {
      publicKey: new Cached(clock),
      nextPublicKey: new Cached(clock),
      apiV3Key: new Cached(clock),
      requestHashKey: new Cached(clock),
      requestHashKeyPrevious: new Cached(clock),
    },
    certificates: new PlatformCertificates(clock),
    ...(options.publisher ? { publisher: options.publisher } : {}),
  };
}

/** What the deployed handlers run on: the Lambda environment and the system clock. */
export const processRuntime: Runtime = /* @__PURE__ */ createRuntime();

/** A handler's wiring: `load` as given, every metric dimensioned by the runtime's stage. */
export function wire<D>(runtime: Runtime, load: () => Promise<D>): Wiring<D> {
  return { load, dimensions: () => ({ stage: readStage(runtime.env) }) };
}
