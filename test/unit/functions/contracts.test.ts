import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { makeHandler } from '../../../functions/contracts';
import type { ContractDeps } from '../../../lib/config/deps';
import type { ContractRecord } from '../../../lib/contracts/model';
import { tracer } from '../../../lib/observability';
import { wiring } from '../../support/config/wiring';
import { PRESIGNED_BY_US } from '../../support/contracts/fixtures';
import { gatewayDouble } from '../../support/contracts/gateway';
import { MemoryContractStore } from '../../support/contracts/memory-store';
import { lambdaContext } from '../../support/wechatpay/callbacks';

const OPENID = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';

const SIGNED: ContractRecord = {
  ...PRESIGNED_BY_US,
  out_contract_code: 'C1',
  state: 'SIGNED',
  contract_id: 'ID1',
  openid: OPENID,
  created_at: '2026-11-27T06:00:00.000Z',
  updated_at: '2026-11-27T06:01:00.000Z',
  version: 3,
};

/**
 * Everything the tracer would send to X-Ray for one invocation: tracing switched on (as in Lambda), its segment
 * stood in for, every metadata entry, annotation and error it is handed collected as JSON.
 */
function recordTraces(): string[] {
  const recorded: string[] = [];
  const segment = { addNewSubsegment: () => ({ close: () => undefined }) };
  mock.method(tracer, 'isTracingEnabled', () => true);
  mock.method(tracer, 'getSegment', () => segment);
  mock.method(tracer, 'setSegment', () => undefined);
  for (const method of ['putMetadata', 'putAnnotation', 'addErrorAsMetadata'] as const) {
    mock.method(tracer, method, (...args: unknown[]) => {
      recorded.push(JSON.stringify(args, (_key, value) => (value instanceof Error ? value.message : value)));
    });
  }
  return recorded;
}

function getEvent(code: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'GET /contracts/{out_contract_code}',
    rawPath: `/contracts/${code}`,
    rawQueryString: '',
    headers: {},
    pathParameters: { out_contract_code: code },
    requestContext: { requestId: 'r-1', http: { method: 'GET', path: `/contracts/${code}` } },
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

describe('functions/contracts: traces carry no openid', () => {
  afterEach(() => mock.restoreAll());

  it('a GET whose answer holds the openid records the invocation but not the answer', async () => {
    const store = new MemoryContractStore();
    store.items.set(SIGNED.out_contract_code, SIGNED);
    const deps = { store, wechatpay: gatewayDouble({}), clock: () => Date.now() } as unknown as ContractDeps;
    const handler = makeHandler(wiring(deps));
    const recorded = recordTraces();
    const res = (await handler(
      getEvent('C1'),
      lambdaContext('contracts'),
    )) as APIGatewayProxyStructuredResultV2;
    assert.equal(res.statusCode, 200);
    assert.ok(String(res.body).includes(OPENID), 'the caller does get the openid');
    assert.ok(
      recorded.some((r) => r.includes('ColdStart')),
      `the tracer was active: ${recorded.join(' ')}`,
    );
    for (const entry of recorded) assert.ok(!entry.includes(OPENID), `traced: ${entry}`);
  });
});
