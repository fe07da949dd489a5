import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { assertPortFree, freePort } from '../../../../infra/local/ports';

function listen(port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

describe('ports', () => {
  it('freePort returns a port that can be bound', async () => {
    const port = await freePort();
    assert.ok(port > 0 && port < 65536, String(port));
    const server = await listen(port, '127.0.0.1');
    server.close();
  });

  it('assertPortFree passes for a free port', async () => {
    await assertPortFree(await freePort(), '127.0.0.1', 'SOME_PORT');
  });

  it('assertPortFree names the variable that moves a busy port', async () => {
    const server = await listen(0, '127.0.0.1');
    const { port } = server.address() as { port: number };
    try {
      await assert.rejects(assertPortFree(port, '127.0.0.1', 'DYNAMODB_PORT'), {
        message: `port ${port} is busy; set DYNAMODB_PORT to move it`,
      });
      // A wildcard bind collides with a loopback listener too, which is how DynamoDB Local's port is checked.
      await assert.rejects(assertPortFree(port, '0.0.0.0', 'DYNAMODB_PORT'), /is busy/);
    } finally {
      server.close();
    }
  });
});
