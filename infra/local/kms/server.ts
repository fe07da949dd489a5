import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { RateLimits } from '../rate-limit';
import { KmsError } from './errors';
import { type Fault, type FaultKind, Faults } from './faults';
import { KeyStore } from './keystore';
import { type Input, operations } from './operations';

export interface KmsStandIn {
  url: string;
  port: number;
  close(): Promise<void>;
  /** The next `count` calls of `operation` fail: 'throttle' -> 400 ThrottlingException, 'unavailable' -> 500
   *  KMSInternalException, 'hang' -> never answer (until close). */
  injectFault(fault: Fault): void;
  calls(operation?: string): number;
  /** Per-operation requests-per-second quotas, as KMS enforces them (`{"Sign": 50}`; null lifts one). Past the
   *  rate a call is answered 400 ThrottlingException and does nothing. */
  setQuotas(quotas: Record<string, number | null>): void;
  /** Calls refused by a quota so far. */
  throttled(operation?: string): number;
}

export interface KmsStandInOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Where keys persist as PEM files; omitted, keys live in memory only. */
  dataDir?: string;
}

const JSON_1_1 = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'TrentService.';
const BODY_LIMIT = 1024 * 1024;
const REGION_IN_SCOPE = /Credential=[^/]+\/\d{8}\/([^/]+)\/kms\//;

function send(res: ServerResponse, status: number, body: object, contentType = JSON_1_1): void {
  res.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': randomUUID() });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, error: KmsError): void {
  send(res, error.status, { __type: error.type, message: error.message });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT)
      throw new KmsError('ValidationException', `request body exceeds ${BODY_LIMIT} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body || '{}');
  } catch {
    throw new KmsError('SerializationException', 'request body is not valid JSON');
  }
}

function injected(kind: Exclude<FaultKind, 'hang'>, operation: string): KmsError {
  return kind === 'throttle'
    ? new KmsError('ThrottlingException', `Rate exceeded (fault injected into ${operation})`)
    : new KmsError('KMSInternalException', `fault injected into ${operation}`, 500);
}

export async function startKmsStandIn(options: KmsStandInOptions = {}): Promise<KmsStandIn> {
  const host = options.host ?? '127.0.0.1';
  const store = await KeyStore.open(options.dataDir);
  const faults = new Faults(Object.keys(operations));
  const quotas = new RateLimits();
  const setQuotas = (input: unknown) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input))
      throw new Error('quotas must be a JSON object of operation name to calls per second');
    const known = Object.keys(operations);
    const unknown = Object.keys(input).find((operation) => !known.includes(operation));
    if (unknown) throw new Error(`quota operation ${unknown} is unknown (known: ${known.join(', ')})`);
    quotas.setAll(input as Record<string, unknown>);
  };
  const hung = new Set<ServerResponse>();

  async function kms(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.headers['x-amz-target'];
    const name =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX)
        ? target.slice(TARGET_PREFIX.length)
        : '';
    const operation = Object.hasOwn(operations, name) ? operations[name] : undefined;
    if (!operation) {
      const known = Object.keys(operations).join(', ');
      throw new KmsError(
        'UnsupportedOperationException',
        `operation ${String(target)} is not supported (supported: ${known})`,
      );
    }
    const body = await readBody(req);
    const fault = faults.take(name);
    if (fault === 'hang') {
      hung.add(res);
      res.once('close', () => hung.delete(res));
      return;
    }
    if (fault) throw injected(fault, name);
    if (!quotas.take(name)) {
      // KMS's own words for a spent request quota; the SDK maps __type to ThrottlingException.
      throw new KmsError(
        'ThrottlingException',
        `You have exceeded the rate at which you may call KMS (${name}: ${quotas.quota(name)} per second). Reduce the frequency of your calls.`,
      );
    }
    const input = parseJson(body);
    if (typeof input !== 'object' || input === null) {
      throw new KmsError('SerializationException', 'request body must be a JSON object');
    }
    const region = REGION_IN_SCOPE.exec(req.headers.authorization ?? '')?.[1] ?? 'us-east-1';
    send(res, 200, await operation(input as Input, { store, region }));
  }

  async function sandbox(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/sandbox/calls') {
      return send(res, 200, faults.byOperation(), 'application/json');
    }
    if (req.method === 'POST' && req.url === '/sandbox/faults') {
      try {
        faults.inject(JSON.parse(await readBody(req)));
      } catch (error) {
        return send(res, 400, { message: (error as Error).message }, 'application/json');
      }
      return send(res, 200, { ok: true }, 'application/json');
    }
    if (req.url === '/sandbox/quota' && (req.method === 'GET' || req.method === 'POST')) {
      try {
        if (req.method === 'POST') setQuotas(JSON.parse((await readBody(req)) || '{}'));
      } catch (error) {
        return send(res, 400, { message: (error as Error).message }, 'application/json');
      }
      return send(res, 200, quotas.snapshot(), 'application/json');
    }
    send(res, 404, {
      message: `no route ${req.method} ${req.url} (try POST /, POST /sandbox/faults, GET /sandbox/calls, GET|POST /sandbox/quota)`,
    });
  }

  const server = createServer((req, res) => {
    const handled = req.method === 'POST' && req.url === '/' ? kms(req, res) : sandbox(req, res);
    handled.catch((error: unknown) => {
      const kmsError =
        error instanceof KmsError ? error : new KmsError('KMSInternalException', String(error), 500);
      if (!res.headersSent) sendError(res, kmsError);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${options.port} on ${host} is busy`, { cause: error })
          : error,
      ),
    );
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host}:${port}`,
    port,
    injectFault: (fault) => faults.inject(fault),
    calls: (operation) => faults.calls(operation),
    setQuotas,
    throttled: (operation) => quotas.throttled(operation),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hung) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '4599' },
      'data-dir': { type: 'string' },
    },
  });
  const kms = await startKmsStandIn({
    host: values.host,
    port: Number(values.port),
    dataDir: values['data-dir'],
  });
  const keys = values['data-dir'] ? `keys in ${values['data-dir']}` : 'keys in memory only';
  console.log(`KMS stand-in listening on ${kms.url} (${keys})`);
  const stop = () => void kms.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
