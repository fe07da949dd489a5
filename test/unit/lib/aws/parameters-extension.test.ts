import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { freePort } from '../../../../infra/local/ports';
import { parametersExtension } from '../../../../lib/aws/parameters-extension';
import { DependencyUnavailable } from '../../../../lib/errors';

const TOKEN = 'session-token-of-this-sandbox';
const SECRET = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:wechatpay/apiv3-key-AbCdEf';
const PARAMETER = '/wechatpay-credit-repayment/test/wechatpay-public-key';
const VALUE = 'k'.repeat(32);

interface Seen {
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
}

/** A loopback server standing in for the extension: it answers what the test scripts, and records each request. */
describe('parametersExtension: the AWS Parameters and Secrets Lambda Extension over loopback HTTP', () => {
  let server: Server;
  let port: number;
  let seen: Seen[];
  let reply: (seen: Seen) => { status: number; body: string } | 'hang';
  /** Whether to drop this request's connection without an answer, as a server closing an idle socket does. */
  let dropNext: () => boolean = () => false;

  before(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const request = {
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
      };
      seen.push(request);
      if (dropNext()) return req.socket.destroy();
      const answer = reply(request);
      if (answer === 'hang') return;
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => {
    seen = [];
    reply = () => ({ status: 500, body: '' });
  });

  const extension = (timeoutMs?: number) => parametersExtension({ port, token: TOKEN }, timeoutMs);
  const awsError = (type: string, message: string) => JSON.stringify({ __type: type, message });

  it('GETs a secret by id with the session token, and answers its SecretString', async () => {
    reply = () => ({ status: 200, body: JSON.stringify({ ARN: SECRET, SecretString: VALUE }) });
    assert.equal(await extension().secret(SECRET), VALUE);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.path, '/secretsmanager/get');
    assert.deepEqual(seen[0]?.query, { secretId: SECRET });
    assert.equal(seen[0]?.headers['x-aws-parameters-secrets-token'], TOKEN);
  });

  it('asks for a version stage when given one (AWSPREVIOUS)', async () => {
    reply = () => ({ status: 200, body: JSON.stringify({ SecretString: 'old' }) });
    assert.equal(await extension().secret(SECRET, 'AWSPREVIOUS'), 'old');
    assert.deepEqual(seen[0]?.query, { secretId: SECRET, versionStage: 'AWSPREVIOUS' });
  });

  it('GETs a parameter by name, decrypted, and answers Parameter.Value; the name travels URL-encoded', async () => {
    reply = () => ({ status: 200, body: JSON.stringify({ Parameter: { Name: PARAMETER, Value: 'pem' } }) });
    assert.equal(await extension().parameter(PARAMETER), 'pem');
    assert.equal(seen[0]?.path, '/systemsmanager/parameters/get');
    assert.deepEqual(seen[0]?.query, { name: PARAMETER, withDecryption: 'true' });
  });

  it('a secret, version or parameter that does not exist (the service’s 400) resolves undefined', async () => {
    reply = ({ path }) => ({
      status: 400,
      body:
        path === '/secretsmanager/get'
          ? awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.")
          : awsError('ParameterNotFound', ''),
    });
    assert.equal(await extension().secret(SECRET, 'AWSPREVIOUS'), undefined);
    assert.equal(await extension().parameter(PARAMETER), undefined);
  });

  it('400 access denied: an error naming the secret, the status and AWS’s reason, never a value', async () => {
    const denied = `User: arn:aws:sts::123456789012:assumed-role/presign is not authorized to perform: secretsmanager:GetSecretValue on resource: ${SECRET}`;
    reply = () => ({ status: 400, body: awsError('AccessDeniedException', denied) });
    await assert.rejects(extension().secret(SECRET), (error: Error) => {
      assert.ok(!(error instanceof DependencyUnavailable), 'a missing grant is configuration, not an outage');
      assert.match(error.message, new RegExp(`refused secret ${SECRET}: 400 AccessDeniedException: User: `));
      return true;
    });
  });

  it('403 (a wrong or missing token) says which header must carry what', async () => {
    reply = () => ({ status: 403, body: 'Bad Token' });
    await assert.rejects(
      extension().parameter(PARAMETER),
      /refused SSM parameter \S+: 403 Bad Token \(the X-Aws-Parameters-Secrets-Token header must carry AWS_SESSION_TOKEN\)/,
    );
  });

  it('404 (not the extension’s path) is an error naming the status', async () => {
    reply = () => ({ status: 404, body: 'Not found' });
    await assert.rejects(extension().secret(SECRET), /refused secret \S+: 404 Not found/);
  });

  it('5xx and throttling are the dependency’s: DependencyUnavailable, which the edge answers 503', async () => {
    for (const status of [500, 502, 429]) {
      reply = () => ({ status, body: awsError('InternalFailure', '') });
      await assert.rejects(extension().secret(SECRET), (error: Error) => {
        assert.ok(error instanceof DependencyUnavailable, `${status}: ${error.message}`);
        assert.match(error.message, new RegExp(`refused secret \\S+: ${status} InternalFailure`));
        return true;
      });
    }
  });

  it('an answer that is not JSON, or has no SecretString, is refused by name', async () => {
    reply = () => ({ status: 200, body: '<html>' });
    await assert.rejects(extension().secret(SECRET), /answered secret \S+ with a body that is not JSON/);
    reply = () => ({ status: 200, body: JSON.stringify({ SecretBinary: 'AAAA' }) });
    await assert.rejects(extension().secret(SECRET), /holds no SecretString \(a binary secret\?\)/);
  });

  it('gives up after its timeout: DependencyUnavailable naming what it waited for', async () => {
    reply = () => 'hang';
    const started = Date.now();
    await assert.rejects(extension(150).parameter(PARAMETER), (error: Error) => {
      assert.ok(error instanceof DependencyUnavailable);
      assert.match(error.message, new RegExp(`no answer within 150 ms for SSM parameter ${PARAMETER}`));
      return true;
    });
    assert.ok(Date.now() - started < 1500, 'it did not wait for the server');
  });

  it('a kept-alive connection dropped meanwhile is tried once more on a new one; a new one dropped is not', async () => {
    reply = () => ({ status: 200, body: JSON.stringify({ SecretString: VALUE }) });
    const store = extension();
    assert.equal(await store.secret(SECRET), VALUE);
    reply = () => ({ status: 200, body: JSON.stringify({ SecretString: VALUE }) });
    let dropped = 0;
    dropNext = () => dropped++ < 1;
    assert.equal(await store.secret(SECRET), VALUE, 'answered on the second connection');
    assert.equal(dropped, 2, 'the dropped attempt and the one after it reached the server');
    dropNext = () => true;
    await assert.rejects(store.secret(SECRET), (error: Error) => error instanceof DependencyUnavailable);
    dropNext = () => false;
  });

  it('no extension listening: the error says to add its layer, and where it looked', async () => {
    const closed = await freePort();
    await assert.rejects(
      parametersExtension({ port: closed, token: TOKEN }).secret(SECRET),
      new RegExp(
        `the AWS Parameters and Secrets Lambda Extension is not answering on localhost:${closed}: add its layer \\(docs/deploy.md\\)`,
      ),
    );
  });

  it('without AWS_SESSION_TOKEN it sends nothing and says why', async () => {
    await assert.rejects(
      parametersExtension({ port }).secret(SECRET),
      /AWS_SESSION_TOKEN is not set, and the AWS Parameters and Secrets Lambda Extension serves only requests that carry it/,
    );
    assert.equal(seen.length, 0);
  });
});
