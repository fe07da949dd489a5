import { DependencyUnavailable } from '../errors';

/** Wraps an AWS SDK failure; the SDK error name (ThrottlingException, …) says why without leaking data. */
export function dependencyUnavailable(
  dependency: string,
  operation: string,
  error: unknown,
): DependencyUnavailable {
  const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new DependencyUnavailable(dependency, `${operation} failed: ${why}`, { cause: error });
}
