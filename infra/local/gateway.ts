/**
 * The local API gateway: serves the real handlers of serverless.yml's `httpApi` routes with API Gateway
 * payload 2.0 events, as the deployed HTTP API would. IAM authorisation is not emulated (local only).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { HttpRoute, LocalFunction, LocalFunctions } from './functions';

interface Route extends HttpRoute {
  fn: LocalFunction;
}

/** Extra routes served by the gateway itself (demo page, OpenAPI): return true when handled. */
export type Extra = (req: IncomingMessage, res: ServerResponse, body: Buffer) => boolean | Promise<boolean>;

export interface GatewayOptions {
  functions: LocalFunctions;
  host?: string;
  port?: number;
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
function toEvent(
  req: IncomingMessage,
  body: Buffer,
  route: HttpRoute,
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
  const routes: Route[] = options.functions.list.flatMap((fn) => fn.routes.map((r) => ({ ...r, fn })));
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const started = Date.now();
    try {
      if (options.extra && (await options.extra(req, res, body))) return;
      const path = new URL(req.url ?? '/', 'http://local').pathname;
      for (const route of routes) {
        const params = match(route, req.method ?? 'GET', path);
        if (!params) continue;
        const event = toEvent(req, body, route, params);
        send(res, await options.functions.invoke(route.fn, event, event.requestContext.requestId));
        options.log?.(
          `${req.method} ${req.url} -> ${res.statusCode} (${route.fn.key}, ${Date.now() - started} ms)`,
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
