import { SQSClient } from '@aws-sdk/client-sqs';
import { AWS_CLIENT_CONFIG } from './client-config';

/**
 * The commands router's SQS client, for ChangeMessageVisibility only: an optimisation the router may go without,
 * so it gets two short attempts (about 2 s at most) rather than the default profile's three of 2 s, which would
 * leave too little of the router's 40 s after a batch whose owners ran for 29 s and whose outcomes were published.
 * `useQueueUrlAsEndpoint: false`: the SDK would otherwise send each request to the QueueUrl's host, past
 * AWS_ENDPOINT_URL_SQS; the regional endpoint it resolves is the queue's own, since the router runs in its Region.
 */
const SQS_CLIENT_CONFIG = {
  maxAttempts: 2,
  requestHandler: { ...AWS_CLIENT_CONFIG.requestHandler, requestTimeout: 1000 },
  useQueueUrlAsEndpoint: false,
};

// One client per container: it keeps its connections alive across invocations.
let sqs: SQSClient | undefined;

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient(SQS_CLIENT_CONFIG);
  return sqs;
}
