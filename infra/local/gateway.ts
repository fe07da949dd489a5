/**
 * The local API gateway: serves the real handlers of serverless.yml's `httpApi` routes with API Gateway
 * payload 2.0 events, as the deployed HTTP API would. IAM authorisation is not emulated (local only).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context';
import { readYaml } from './tables';

export interface Route {
  method: string;
  /** `/contracts/{out_contract_code}` */
  path: string;
  functionName: string;
  /** `functions/contracts.handler` */
  handler: string;
}

interface ServerlessFunctions {
  functions?: Record<string, { handler: string; events?: { httpApi?: { method: string; path: string } }[] }>;
}

export function readRoutes(serverlessYml: string): Route[] {
  const doc = readYaml(serverlessYml) as ServerlessFunctions;
  return Object.entries(doc.functions ?? {}).flatMap(([functionName, fn]) =>
    (fn.events ?? []).flatMap((e) =>
      e.httpApi
        ? [
            {
              method: e.httpApi.method.toUpperCase(),
              path: e.httpApi.path,
              functionName,
              handler: fn.handler,
            },
          ]
        : [],
    ),
  );
}

type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** Extra routes served by the gateway itself (demo page, OpenAPI): return true when handled. */
export type Extra = (req: IncomingMessage, res: ServerResponse, body: Buffer) => boolean | Promise<boolean>;

export interface GatewayOptions {
  routes: Route[];
  host?: string;
  port?: number;
  /** Project root the handler paths are relative to. */
  root?: string;
  extra?: Extra;
  log?: (line: string) => void;
}

export interface LocalGateway {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded))/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function match(route: Route, method: string, path: string): Record<string, string> | undefined {
  if (route.method !== method && route.method !== 'ANY') return undefined;
  const names: string[] = [];
  const pattern = route.path
    .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
    .replace(/\\?\{([^}]+)\\?\}/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
  const found = new RegExp(`^${pattern}$`).exec(path);
  if (!found) return undefined;
  return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(found[i + 1] ?? '')]));
}

/** The event API Gateway (HTTP API, payload 2.0) would build; bodies that are not UTF-8 text arrive base64. */
export function toEvent(
  req: IncomingMessage,
  body: Buffer,
  route: Route,
  params: Record<string, string>,
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    const value = req.rawHeaders[i + 1] ?? '';
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  let text: string | undefined;
  if (body.length > 0 && TEXT_TYPES.test(headers['content-type'] ?? '')) {
    try {
      text = utf8.decode(body);
    } catch {
      text = undefined;
    }
  }
  const now = Date.now();
  const query = Object.fromEntries(url.searchParams);
  return {
    version: '2.0',
    routeKey: `${route.method} ${route.path}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(params).length > 0 ? { pathParameters: params } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: `${route.method} ${route.path}`,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body.length > 0
      ? text !== undefined
        ? { body: text, isBase64Encoded: false }
        : { body: body.toString('base64'), isBase64Encoded: true }
      : { isBase64Encoded: false }),
  };
}

function send(res: ServerResponse, result: unknown): void {
  // HTTP API payload 2.0: a value without statusCode is a 200 JSON body.
  const r: APIGatewayProxyStructuredResultV2 =
    typeof result === 'object' && result !== null && 'statusCode' in result
      ? (result as APIGatewayProxyStructuredResultV2)
      : { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(result) };
  const body = r.body === undefined ? undefined : Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8');
  res.writeHead(r.statusCode ?? 200, {
    ...(r.headers as Record<string, string>),
    ...(r.cookies ? { 'set-cookie': r.cookies } : {}),
  });
  res.end(body);
}

export async function startGateway(options: GatewayOptions): Promise<LocalGateway> {
  const root = options.root ?? process.cwd();
  const handlers = new Map<string, Promise<LambdaHandler>>();
  const load = (route: Route): Promise<LambdaHandler> => {
    let loaded = handlers.get(route.handler);
    if (!loaded) {
      const dot = route.handler.lastIndexOf('.');
      const file = resolve(root, `${route.handler.slice(0, dot)}.ts`);
      const exported = route.handler.slice(dot + 1);
      loaded = import(pathToFileURL(file).href).then((m: Record<string, LambdaHandler>) => {
        const fn = m[exported];
        if (typeof fn !== 'function') throw new Error(`${file} does not export ${exported}`);
        return fn;
      });
      handlers.set(route.handler, loaded);
    }
    return loaded;
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const started = Date.now();
    try {
      if (options.extra && (await options.extra(req, res, body))) return;
      const path = new URL(req.url ?? '/', 'http://local').pathname;
      for (const route of options.routes) {
        const params = match(route, req.method ?? 'GET', path);
        if (!params) continue;
        const event = toEvent(req, body, route, params);
        const result = await (await load(route))(
          event,
          lambdaContext(route.functionName, 30_000, event.requestContext.requestId),
        );
        send(res, result);
        options.log?.(
          `${req.method} ${req.url} -> ${res.statusCode} (${route.functionName}, ${Date.now() - started} ms)`,
        );
        return;
      }
      send(res, {
        statusCode: 404,
        headers: { 'content-type': 'application/json' },
        body: '{"message":"Not Found"}',
      });
    } catch (error) {
      options.log?.(`${req.method} ${req.url} -> 502: ${(error as Error).stack ?? String(error)}`);
      // What API Gateway answers when the integration fails.
      if (!res.headersSent) send(res, { statusCode: 500, body: '{"message":"Internal Server Error"}' });
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => ok());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
