import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { timed } from './latency';

/** Every AWS client but the callback path's: fail fast enough to answer API Gateway (29 s) with our own 503. */
export const AWS_CLIENT_CONFIG = {
  maxAttempts: 3,
  requestHandler: { requestTimeout: 2000, connectionTimeout: 1000, throwOnRequestTimeout: true },
};

/**
 * WeChat Pay waits 5 s for a callback answer and the callback path makes two DynamoDB calls in a row (read, then
 * one transaction): 2 attempts of at most 0.9 s each keep even a hanging DynamoDB under ~4 s, so WeChat Pay gets
 * our 500 (and retries) instead of timing out. Measured before this: a hanging DynamoDB answered after 6.1 s.
 */
const CALLBACK_CLIENT_CONFIG = {
  maxAttempts: 2,
  requestHandler: { requestTimeout: 900, connectionTimeout: 500, throwOnRequestTimeout: true },
};

/**
 * The commands router's Invoke waits for the owning function's whole run (29 s at most: presign, contracts,
 * repayments), so its request timeout outlasts that. One attempt: a throttled or failed invoke leaves the
 * message on the queue, whose redelivery is the retry, so SDK retries would only stack behind it.
 */
const LAMBDA_CLIENT_CONFIG = {
  maxAttempts: 1,
  requestHandler: { requestTimeout: 31_000, connectionTimeout: 1000, throwOnRequestTimeout: true },
};

export type DynamoProfile = 'api' | 'callback';

// One client per profile and service per container: each keeps its connections alive across invocations.
const documentClients = new Map<DynamoProfile, DynamoDBDocumentClient>();
let eventBridge: EventBridgeClient | undefined;
let lambda: LambdaClient | undefined;

/** The timed DynamoDB document client of `profile` (its timeouts and retries). */
export function dynamoDocumentClient(profile: DynamoProfile = 'api'): DynamoDBDocumentClient {
  let client = documentClients.get(profile);
  if (!client) {
    const config = profile === 'callback' ? CALLBACK_CLIENT_CONFIG : AWS_CLIENT_CONFIG;
    client = DynamoDBDocumentClient.from(timed(new DynamoDBClient(config), 'DynamoDBLatency'), {
      marshallOptions: { removeUndefinedValues: true },
    });
    documentClients.set(profile, client);
  }
  return client;
}

/** The timed EventBridge client. */
export function eventBridgeClient(): EventBridgeClient {
  eventBridge ??= timed(new EventBridgeClient(AWS_CLIENT_CONFIG), 'EventBridgeLatency');
  return eventBridge;
}

/** The timed Lambda client (the commands router's Invoke). */
export function lambdaClient(): LambdaClient {
  lambda ??= timed(new LambdaClient(LAMBDA_CLIENT_CONFIG), 'LambdaLatency');
  return lambda;
}
