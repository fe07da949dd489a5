/** What Lambda hands a handler: an API Gateway (HTTP API, payload 2.0) event and a context. */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { MCHID, MERCHANT_SERIAL, PUBLIC_KEY_ID } from './fixtures';

export function apiEvent(
  method: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): APIGatewayProxyEventV2 {
  const now = Date.now();
  const routeKey = `${method} ${path}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    // HTTP API lower-cases header names.
    headers: { ...headers, 'content-type': 'application/json', host: 'api.example.com' },
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: 'bench-request',
      routeKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body,
    isBase64Encoded: false,
  };
}

export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:ap-southeast-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: 'bench-invocation',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/**
 * The environment lib/config/settings.ts reads, with key material given inline (no extension to read it from):
 * the phases time our code, and the first-invocation phase times the extension path.
 */
export function serviceEnv(publicKeyPem: string, apiV3Key: string): Record<string, string> {
  return {
    AWS_REGION: 'ap-southeast-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_EC2_METADATA_DISABLED: 'true',
    WECHATPAY_MCHID: MCHID,
    WECHATPAY_MERCHANT_SERIAL_NO: MERCHANT_SERIAL,
    WECHATPAY_PUBLIC_KEY_ID: PUBLIC_KEY_ID,
    WECHATPAY_PUBLIC_KEY: publicKeyPem,
    WECHATPAY_APIV3_KEY: apiV3Key,
    REQUEST_HASH_KEY: `${apiV3Key}-request-hash`,
    WECHATPAY_NOTIFY_URL: 'https://api.example.com/wechatpay/notifications',
    CONTRACTS_TABLE: 'bench-contracts',
    NOTIFICATIONS_TABLE: 'bench-notifications',
    REPAYMENTS_TABLE: 'bench-repayments',
  };
}
