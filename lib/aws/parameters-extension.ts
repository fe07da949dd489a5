import { Agent, request } from 'node:http';
import type { KeyStore } from '../config/secrets';
import type { ExtensionSettings } from '../config/settings';
import { DependencyUnavailable } from '../errors';

/**
 * Secrets Manager secrets and SSM parameters through the AWS Parameters and Secrets Lambda Extension: plain HTTP
 * GETs to the layer's server on localhost, authenticated by the function's session token, so that no bundle holds
 * an SSM or Secrets Manager client (docs/deploy.md, "The Parameters and Secrets extension"). The extension reads
 * with the function's own role, so the grants in infra/aws/iam.yml are the ones it uses.
 */

/** The extension answers from its cache in about a millisecond, and reads through to AWS in about a hundred. */
export const EXTENSION_TIMEOUT_MS = 2000;

const HOST = 'localhost';
const EXTENSION = 'the AWS Parameters and Secrets Lambda Extension';
/** What the extension's error answers name when the secret, its version or the parameter does not exist. */
const NOT_FOUND = /ResourceNotFoundException|ParameterNotFound|ParameterVersionNotFound/;

const STALE = new Set(['ECONNRESET', 'EPIPE']);

// One kept-alive connection per container, as for every other client (bench/README.md, keep-alive).
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

interface Answer {
  status: number;
  body: string;
}

export function parametersExtension(settings: ExtensionSettings, timeoutMs = EXTENSION_TIMEOUT_MS): KeyStore {
  const get = async (path: string, what: string): Promise<unknown> => {
    const answer = await send(settings, path, what, timeoutMs);
    if (answer.status === 200) return parse(answer.body, what);
    if (answer.status >= 400 && answer.status < 500 && NOT_FOUND.test(answer.body)) return undefined;
    throw refusal(answer, what);
  };
  return {
    async secret(secretId, versionStage) {
      const query = new URLSearchParams({ secretId, ...(versionStage ? { versionStage } : {}) });
      const what = `secret ${secretId}${versionStage ? ` (version ${versionStage})` : ''}`;
      const found = (await get(`/secretsmanager/get?${query}`, what)) as
        | { SecretString?: unknown }
        | undefined;
      if (found === undefined) return undefined;
      if (typeof found.SecretString !== 'string') {
        throw new Error(`${what} holds no SecretString (a binary secret?): it must hold the key as text`);
      }
      return found.SecretString;
    },
    async parameter(name) {
      const query = new URLSearchParams({ name, withDecryption: 'true' });
      const what = `SSM parameter ${name}`;
      const found = (await get(`/systemsmanager/parameters/get?${query}`, what)) as
        | { Parameter?: { Value?: unknown } }
        | undefined;
      if (found === undefined) return undefined;
      const value = found.Parameter?.Value;
      if (typeof value !== 'string') throw new Error(`${EXTENSION} answered ${what} without Parameter.Value`);
      return value;
    },
  };
}

function send(settings: ExtensionSettings, path: string, what: string, timeoutMs: number): Promise<Answer> {
  const { port, token } = settings;
  if (!token) {
    return Promise.reject(
      new Error(
        `AWS_SESSION_TOKEN is not set, and ${EXTENSION} serves only requests that carry it (${what})`,
      ),
    );
  }
  const attempt = (retryStale: boolean): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: HOST,
          port,
          path,
          agent,
          headers: { 'X-Aws-Parameters-Secrets-Token': token },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(
          new DependencyUnavailable(
            'Parameters and Secrets extension',
            `no answer within ${timeoutMs} ms for ${what}`,
          ),
        ),
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive connection the other end closed while idle: Node's documented remedy is one new attempt.
        if (retryStale && req.reusedSocket && STALE.has(error.code ?? '')) resolve(attempt(false));
        else reject(unreachable(error, port, what));
      });
      req.end();
    });
  return attempt(true);
}

function unreachable(error: NodeJS.ErrnoException, port: number, what: string): Error {
  if (error instanceof DependencyUnavailable) return error;
  if (error.code === 'ECONNREFUSED') {
    return new Error(
      `${EXTENSION} is not answering on ${HOST}:${port}: add its layer (docs/deploy.md) to read ${what}`,
      { cause: error },
    );
  }
  return new DependencyUnavailable('Parameters and Secrets extension', `${what}: ${error.message}`, {
    cause: error,
  });
}

function parse(body: string, what: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new Error(`${EXTENSION} answered ${what} with a body that is not JSON`, { cause: error });
  }
}

/**
 * A refusal names what was asked for, the status and AWS's error type and message (role and resource ARNs, never a
 * value: an error answer carries none). 4xx is our configuration (a missing grant, a wrong name, a bad token), to be
 * fixed before a retry helps; 5xx and throttling are the dependency's, retried by the caller's caller.
 */
function refusal(answer: Answer, what: string): Error {
  const reason = errorText(answer.body);
  const message = `${EXTENSION} refused ${what}: ${answer.status}${reason ? ` ${reason}` : ''}`;
  if (answer.status >= 500 || answer.status === 429) {
    return new DependencyUnavailable('Parameters and Secrets extension', message);
  }
  if (answer.status === 401 || answer.status === 403) {
    return new Error(`${message} (the X-Aws-Parameters-Secrets-Token header must carry AWS_SESSION_TOKEN)`);
  }
  return new Error(message);
}

/** `__type: message` of an AWS JSON error answer, or the first 200 characters of any other. */
function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { __type?: unknown; message?: unknown; Message?: unknown };
    const text = [parsed.__type, parsed.message ?? parsed.Message].filter((p) => typeof p === 'string');
    if (text.length > 0) return text.join(': ');
  } catch {
    // Not JSON: the text itself.
  }
  return body.trim().slice(0, 200);
}
