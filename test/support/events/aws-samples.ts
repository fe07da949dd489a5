import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, EventBridgeEvent, SQSEvent, SQSRecord } from 'aws-lambda';

// Events shaped as AWS documents them for each source (the samples `sam local generate-event` prints), written
// by hand so that a test builds exactly the envelope Lambda would deliver.

const REGION = 'ap-east-1';
const ACCOUNT = '123456789012';

/** What a rule on our bus delivers to its Lambda target: the caller's `source`, the command as `detail-type`. */
export function eventBridgeEvent<D>(
  detailType: string,
  detail: D,
  source = 'com.example.lender.onboarding',
): EventBridgeEvent<string, D> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source,
    account: ACCOUNT,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [],
    detail,
  };
}

/** One SQS message as an event source mapping hands it over. */
export function sqsRecord(body: string, receiveCount = 1): SQSRecord {
  const sent = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: `AQEB${randomUUID().replaceAll('-', '')}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: sent,
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: sent,
    },
    messageAttributes: {},
    md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:commands`,
    awsRegion: REGION,
  };
}

export const sqsEvent = (...bodies: string[]): SQSEvent => ({ Records: bodies.map((b) => sqsRecord(b)) });

/** An HTTP API (payload 2.0) request. */
export function apiGatewayV2Event(routeKey: string, body?: unknown): APIGatewayProxyEventV2 {
  const [method = 'GET', path = '/'] = routeKey.split(' ');
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: {
      accountId: ACCOUNT,
      apiId: 'api-id',
      domainName: 'id.execute-api.ap-east-1.amazonaws.com',
      domainPrefix: 'id',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'agent' },
      requestId: 'id',
      routeKey,
      stage: '$default',
      time: '12/Mar/2020:19:03:58 +0000',
      timeEpoch: 1583348638390,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    isBase64Encoded: false,
  };
}

/** Envelopes of sources this service does not take, each as AWS documents it (values trimmed). */
export const OTHER_ENVELOPES: Record<string, Record<string, unknown>> = {
  'API Gateway REST (payload 1.0)': {
    resource: '/contracts/h5-presign',
    path: '/contracts/h5-presign',
    httpMethod: 'POST',
    headers: {},
    requestContext: { requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef', stage: 'prod' },
    body: '{}',
    isBase64Encoded: false,
  },
  'Application Load Balancer': {
    requestContext: {
      elb: { targetGroupArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/t/1` },
    },
    httpMethod: 'POST',
    path: '/',
    headers: {},
    body: '',
    isBase64Encoded: false,
  },
  SNS: {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        Sns: { Type: 'Notification', MessageId: randomUUID(), Message: '{}', Subject: 'x' },
      },
    ],
  },
  S3: {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: 'b' } },
      },
    ],
  },
  'EventBridge without detail': {
    version: '0',
    id: randomUUID(),
    'detail-type': 'PresignRequested',
    source: 'com.example.lender.onboarding',
    account: ACCOUNT,
    time: '2026-01-01T00:00:00Z',
    region: REGION,
    resources: [],
  },
};
