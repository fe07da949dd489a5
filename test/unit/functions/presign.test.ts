import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { makeHandler } from '../../../functions/presign';
import type { PresignDeps } from '../../../lib/contracts/presign';
import { logger, metrics } from '../../../lib/observability';
import type { SignedRequest, WechatPayRequest, WechatPayResponse } from '../../../lib/wechatpay/client';
import { wiring } from '../../support/config/wiring';
import { h5Body, PERSON } from '../../support/contracts/fixtures';
import { MemoryContractStore } from '../../support/contracts/memory-store';
import { presignTestDeps } from '../../support/contracts/presign-deps';
import { lambdaContext } from '../../support/wechatpay/callbacks';

const T0 = Date.parse('2026-11-27T04:00:00Z');

/** WeChat Pay accepting every presign. */
const gateway = {
  encrypt: (plaintext: string) => `ENC(${plaintext.length})`,
  async sign(request: WechatPayRequest): Promise<SignedRequest> {
    return {
      request,
      url: `https://wx.example${request.path}`,
      body: JSON.stringify(request.body),
      headers: {},
    };
  },
  async call(): Promise<WechatPayResponse> {
    throw new Error('presign never queries');
  },
  async send(): Promise<WechatPayResponse> {
    const body = { redirect_url: 'https://wx.example/sign?t=1' };
    return {
      status: 200,
      requestId: 'req-1',
      headers: new Headers(),
      body: Buffer.from(JSON.stringify(body)),
      json: <T>() => body as T,
    };
  },
};

function handler() {
  const deps: PresignDeps = presignTestDeps({
    store: new MemoryContractStore(),
    wechatpay: gateway,
    clock: () => T0,
  });
  return makeHandler(wiring(deps));
}

function apiEvent(body: unknown): APIGatewayProxyEventV2 {
  const routeKey = 'POST /contracts/h5-presign';
  return {
    version: '2.0',
    routeKey,
    rawPath: '/contracts/h5-presign',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: {
      accountId: '000000000000',
      apiId: 'unit',
      domainName: 'api.example',
      domainPrefix: 'api',
      http: {
        method: 'POST',
        path: '/contracts/h5-presign',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: '',
      },
      requestId: 'api-1',
      routeKey,
      stage: '$default',
      time: new Date(T0).toUTCString(),
      timeEpoch: T0,
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

describe('functions/presign handler, its dependencies injected', () => {
  afterEach(() => mock.restoreAll());

  it('201, then 200 with Idempotent-Replayed for the identical request, each counted', async () => {
    const added = mock.method(metrics, 'addMetric', () => metrics);
    const presign = handler();
    const event = apiEvent(h5Body());
    const first = (await presign(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
    const again = (await presign(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(again.statusCode, 200);
    assert.equal(again.headers?.['idempotent-replayed'], 'true');
    assert.equal(again.body, first.body);
    assert.deepEqual(
      added.mock.calls.map((c) => c.arguments[0]),
      ['PresignCreated', 'PresignReplayed'],
    );
  });

  it('never logs its event, which holds the plaintext identity, even when events are logged', async () => {
    mock.method(logger, 'shouldLogEvent', (overwrite?: boolean) => overwrite ?? true);
    const lines: string[] = [];
    mock.method(logger, 'info', (...args: unknown[]) => {
      lines.push(JSON.stringify(args));
    });
    await handler()(apiEvent(h5Body()), lambdaContext());
    assert.ok(
      lines.some((l) => l.includes('presign created')),
      'the handler did log',
    );
    assert.equal(lines.filter((l) => l.includes(PERSON.name) || l.includes(PERSON.id)).length, 0);
    assert.equal(lines.filter((l) => l.includes('Lambda invocation event')).length, 0);
  });

  it('a direct invocation with another kind than H5 or APP throws ValidationFailed naming /kind', async () => {
    await assert.rejects(handler()({ ...h5Body(), kind: 'WEB' }, lambdaContext()), (error: Error) => {
      assert.equal(error.name, 'ValidationFailed');
      assert.match(JSON.stringify(error), /\/kind/);
      return true;
    });
  });
});
