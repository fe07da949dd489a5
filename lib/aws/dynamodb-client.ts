import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AWS_CLIENT_CONFIG } from './client-config';
import { timed } from './latency';

/**
 * WeChat Pay waits 5 s for a callback answer and the callback path makes two DynamoDB calls in a row (read, then
 * one transaction): 2 attempts of at most 0.9 s each keep even a hanging DynamoDB under ~4 s, so WeChat Pay gets
 * our 500 (and retries) instead of timing out. Measured before this: a hanging DynamoDB answered after 6.1 s.
 */
const CALLBACK_CLIENT_CONFIG = {
  maxAttempts: 2,
  requestHandler: { requestTimeout: 900, connectionTimeout: 500, throwOnRequestTimeout: true },
};

export type DynamoProfile = 'api' | 'callback';

// One client per profile per container: each keeps its connections alive across invocations.
const documentClients = new Map<DynamoProfile, DynamoDBDocumentClient>();

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
