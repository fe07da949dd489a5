import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ContractDeps } from '../../../lib/config/deps';
import type { ContractRecord } from '../../../lib/contracts/model';
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

/**
 * Lambda with active tracing, as deployed: the invocation's trace header (sampled) and the address of the X-Ray
 * daemon, to which an in-process tracer (the X-Ray SDK) would send its segments over UDP.
 */
const LAMBDA_TRACING = {
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  AWS_LAMBDA_FUNCTION_NAME: 'wechatpay-credit-repayment-citest-contracts',
  LAMBDA_TASK_ROOT: '/var/task',
  _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
  POWERTOOLS_TRACE_ENABLED: 'true',
};

describe('functions/contracts: nothing of ours reaches X-Ray, so no trace carries the openid', () => {
  const datagrams: string[] = [];
  const daemon = createSocket('udp4', (message) => datagrams.push(message.toString('utf8')));
  const saved = new Map<string, string | undefined>();

  before(async () => {
    daemon.bind(0, '127.0.0.1');
    await once(daemon, 'listening');
    const env = {
      ...LAMBDA_TRACING,
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${(daemon.address() as AddressInfo).port}`,
    };
    for (const [name, value] of Object.entries(env)) {
      saved.set(name, process.env[name]);
      process.env[name] = value;
    }
  });
  after(() => {
    daemon.close();
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('a sampled GET whose answer holds the openid sends nothing to the X-Ray daemon: only Lambda’s own segments exist', async () => {
    // Loaded only now, in the traced environment, as Lambda loads it: a tracer would start here.
    const { makeHandler } = await import('../../../functions/contracts');
    const store = new MemoryContractStore();
    store.items.set(SIGNED.out_contract_code, SIGNED);
    const deps = { store, wechatpay: gatewayDouble({}), clock: () => Date.now() } as unknown as ContractDeps;
    const res = (await makeHandler(wiring(deps))(
      getEvent('C1'),
      lambdaContext('contracts'),
    )) as APIGatewayProxyStructuredResultV2;
    assert.equal(res.statusCode, 200);
    assert.ok(String(res.body).includes(OPENID), 'the caller does get the openid');
    // The X-Ray SDK sends each closed (sub)segment at once, one datagram each: allow it time to arrive.
    await sleep(200);
    assert.deepEqual(datagrams, [], 'the process sent segments of its own');
  });
});
