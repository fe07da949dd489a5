import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it, mock } from 'node:test';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { timed, timedFetch } from '../../../../lib/aws/latency';
import { metrics } from '../../../../lib/observability';

describe('dependency latency metrics', () => {
  const server = createServer((req, res) => {
    // Slow enough that a recorded duration of ~0 ms would mean the timer is not around the call.
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(req.url === '/fail' ? '' : '{"TableNames":[]}');
    }, 30);
  });
  let url = '';
  before(async () => {
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('records each AWS SDK call under the given metric name, in milliseconds', async () => {
    const recorded = mock.method(metrics, 'addMetric', () => metrics);
    const client = timed(
      new DynamoDBClient({
        endpoint: url,
        region: 'local',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      }),
      'DynamoDBLatency',
    );
    await client.send(new ListTablesCommand({}));
    client.destroy();
    const calls = recorded.mock.calls.map((c) => c.arguments);
    recorded.mock.restore();
    assert.equal(calls.length, 1);
    const [name, unit, value] = calls[0] as [string, string, number];
    assert.equal(name, 'DynamoDBLatency');
    assert.equal(unit, 'Milliseconds');
    assert.ok(value >= 25, `duration ${value} ms covers the 30 ms the server took`);
  });

  it('records a WeChat Pay attempt even when it fails', async () => {
    const recorded = mock.method(metrics, 'addMetric', () => metrics);
    const timedFetchCall = timedFetch('WechatPayLatency');
    await assert.rejects(timedFetchCall('http://127.0.0.1:1/unreachable'));
    const ok = await timedFetchCall(`${url}/x`);
    assert.equal(ok.status, 200);
    const names = recorded.mock.calls.map((c) => c.arguments[0]);
    recorded.mock.restore();
    assert.deepEqual(names, ['WechatPayLatency', 'WechatPayLatency']);
  });
});
