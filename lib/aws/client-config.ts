/**
 * The retries and timeouts of every AWS client but the callback path's DynamoDB profile (lib/aws/dynamodb-client.ts):
 * fail fast enough to answer API Gateway (29 s) with our own 503. A module of its own, so that a function that
 * loads one client loads no other with it (publish: EventBridge without DynamoDB).
 */
export const AWS_CLIENT_CONFIG = {
  maxAttempts: 3,
  requestHandler: { requestTimeout: 2000, connectionTimeout: 1000, throwOnRequestTimeout: true },
};
