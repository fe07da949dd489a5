import type { Wiring } from '../../../lib/http/lambda';

/** A handler's wiring around fixed dependencies: what a handler test injects instead of the builders. */
export function wiring<D>(deps: D, stage = 'test'): Wiring<D> {
  return { load: async () => deps, dimensions: () => ({ stage }) };
}
