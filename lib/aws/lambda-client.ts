import { LambdaClient } from '@aws-sdk/client-lambda';
import { timed } from './latency';

/**
 * The commands router's Invoke waits for the owning function's whole run (29 s at most: presign, contracts,
 * repayments), so its request timeout outlasts that. One attempt: a throttled or failed invoke leaves the
 * message on the queue, whose redelivery is the retry, so SDK retries would only stack behind it.
 */
const LAMBDA_CLIENT_CONFIG = {
  maxAttempts: 1,
  requestHandler: { requestTimeout: 31_000, connectionTimeout: 1000, throwOnRequestTimeout: true },
};

// One client per container: it keeps its connections alive across invocations.
let lambda: LambdaClient | undefined;

/** The timed Lambda client (the commands router's Invoke). */
export function lambdaClient(): LambdaClient {
  lambda ??= timed(new LambdaClient(LAMBDA_CLIENT_CONFIG), 'LambdaLatency');
  return lambda;
}
