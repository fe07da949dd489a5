/**
 * The AWS Parameters and Secrets Lambda Extension's HTTP interface, served from values the local stack holds, so
 * that the functions read their key material locally exactly as deployed (lib/aws/parameters-extension.ts):
 * `GET /secretsmanager/get?secretId=…[&versionStage=…]` answers GetSecretValue's JSON,
 * `GET /systemsmanager/parameters/get?name=…[&withDecryption=true]` GetParameter's. A request without the
 * `X-Aws-Parameters-Secrets-Token` header holding the session token is refused (403), as the extension refuses
 * it; what does not exist is the services' own 400 with `{"__type","message"}` (docs/deploy.md).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ParametersExtensionOptions {
  host?: string;
  /** 0 = a free port. Default 2773, the extension's own. */
  port?: number;
  /** The session token every request must carry; default: a random one. */
  token?: string;
  log?: (line: string) => void;
}

export interface LocalParametersExtension {
  port: number;
  /** What the functions must send, and so what AWS_SESSION_TOKEN is set to. */
  token: string;
  /** Stores a new version of a secret: the current one becomes AWSPREVIOUS, as put-secret-value does. */
  putSecret(secretId: string, value: string): void;
  putParameter(name: string, value: string): void;
  /** Every request answered, in order: `<path> <what> <status>`. */
  readonly requests: string[];
  close(): Promise<void>;
}

interface SecretVersions {
  AWSCURRENT: string;
  AWSPREVIOUS?: string;
}

const REGION = 'ap-southeast-1';
const ACCOUNT = '000000000000';

/** A secret ARN as Secrets Manager makes them: the name, a dash and six random characters. */
export function localSecretArn(name: string): string {
  const suffix = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').slice(0, 6);
  return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${suffix}`;
}

export async function startParametersExtension(
  options: ParametersExtensionOptions = {},
): Promise<LocalParametersExtension> {
  const token = options.token ?? randomBytes(32).toString('base64');
  const secrets = new Map<string, SecretVersions>();
  const parameters = new Map<string, { value: string; version: number }>();
  const requests: string[] = [];
  const log = options.log ?? (() => {});

  const answer = (res: ServerResponse, status: number, body: unknown, line: string) => {
    requests.push(`${line} ${status}`);
    log(`${line} ${status}`);
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
    res.end(text);
  };
  const notFound = (message: string, type = 'ResourceNotFoundException') => ({ __type: type, message });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const line = url.pathname.replace(/\/$/, '');
    if (req.method !== 'GET') return answer(res, 405, 'Not allowed', line);
    if (req.headers['x-aws-parameters-secrets-token'] !== token) return answer(res, 403, 'Bad Token', line);
    if (line === '/secretsmanager/get') {
      const id = url.searchParams.get('secretId') ?? '';
      const stage = url.searchParams.get('versionStage') ?? 'AWSCURRENT';
      const what = `${line} ${id} ${stage}`;
      const versions = secrets.get(id);
      if (!versions)
        return answer(res, 400, notFound("Secrets Manager can't find the specified secret."), what);
      const value = stage === 'AWSCURRENT' || stage === 'AWSPREVIOUS' ? versions[stage] : undefined;
      if (value === undefined) {
        const message = `Secrets Manager can't find the specified secret value for staging label: ${stage}`;
        return answer(res, 400, notFound(message), what);
      }
      const body = {
        ARN: id,
        Name: id.split(':secret:')[1]?.replace(/-[^-]{6}$/, ''),
        SecretString: value,
        VersionId: randomUUID(),
        VersionStages: [stage],
        CreatedDate: new Date().toISOString(),
      };
      return answer(res, 200, body, what);
    }
    if (line === '/systemsmanager/parameters/get') {
      const name = url.searchParams.get('name') ?? '';
      const what = `${line} ${name}`;
      const parameter = parameters.get(name);
      if (!parameter) return answer(res, 400, notFound('', 'ParameterNotFound'), what);
      const body = {
        Parameter: {
          ARN: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name}`,
          DataType: 'text',
          LastModifiedDate: new Date().toISOString(),
          Name: name,
          Selector: null,
          SourceResult: null,
          Type: 'String',
          Value: parameter.value,
          Version: parameter.version,
        },
        ResultMetadata: {},
      };
      return answer(res, 200, body, what);
    }
    return answer(res, 404, 'Not found', line);
  });
  server.listen(options.port ?? 2773, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    token,
    putSecret(secretId, value) {
      const previous = secrets.get(secretId)?.AWSCURRENT;
      secrets.set(secretId, {
        AWSCURRENT: value,
        ...(previous === undefined ? {} : { AWSPREVIOUS: previous }),
      });
    },
    putParameter(name, value) {
      parameters.set(name, { value, version: (parameters.get(name)?.version ?? 0) + 1 });
    },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
