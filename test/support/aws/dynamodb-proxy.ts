import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An HTTP proxy in front of DynamoDB Local that can misbehave one call at a time, the way a network between
 * Lambda and DynamoDB does: an answer that arrives after the client gave up (the write committed, the SDK
 * retried), a call that never gets an answer, a call refused with a 500. Each rule names the operation
 * (`PutItem`, `UpdateItem`, …, from the `X-Amz-Target` header) and, optionally, a string the request body must
 * contain (a contract code), so one test's faults never touch another's calls.
 */
export type ProxyAction =
  /** Forwarded at once, so the call takes effect; its answer is passed on `ms` later. */
  | { kind: 'hold'; ms: number }
  /** Never forwarded and never answered: DynamoDB hanging. */
  | { kind: 'hang' }
  /** Never forwarded; answered 500 InternalServerError, which the SDK retries. */
  | { kind: 'fail' };

export interface ProxyRule {
  operation: string;
  action: ProxyAction;
  /** How many matching calls this rule applies to; default 1. */
  count?: number;
  /** Only calls whose JSON body contains this text. */
  bodyIncludes?: string;
}

export interface DynamoDbProxy {
  endpoint: string;
  /** Arms a rule; rules apply first-in first-out. */
  arm(rule: ProxyRule): void;
  /** Calls of `operation` seen so far (matching `bodyIncludes` when given), faulted ones included. */
  calls(operation: string, bodyIncludes?: string): number;
  close(): Promise<void>;
}

interface Armed extends ProxyRule {
  left: number;
}

export async function startDynamoDbProxy(upstream: string): Promise<DynamoDbProxy> {
  const target = new URL(upstream);
  const armed: Armed[] = [];
  const seen: { operation: string; body: string }[] = [];
  const sockets = new Set<Socket>();

  const take = (operation: string, body: string): ProxyAction | undefined => {
    const rule = armed.find(
      (r) => r.operation === operation && (r.bodyIncludes === undefined || body.includes(r.bodyIncludes)),
    );
    if (!rule) return undefined;
    rule.left--;
    if (rule.left <= 0) armed.splice(armed.indexOf(rule), 1);
    return rule.action;
  };

  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse, delayMs: number) => {
    const upstreamReq = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          const reply = () => {
            // The client may have given up and closed the socket meanwhile: then the answer is lost.
            if (res.destroyed || res.socket?.destroyed) return;
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(chunks));
          };
          if (delayMs > 0) setTimeout(reply, delayMs).unref();
          else reply();
        });
      },
    );
    upstreamReq.on('error', () => res.destroy());
    upstreamReq.end(body);
  };

  const server: Server = createServer((req, res) => {
    res.on('error', () => undefined);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString('utf8');
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      seen.push({ operation, body: text });
      const action = take(operation, text);
      if (action?.kind === 'hang') return;
      if (action?.kind === 'fail') {
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError' }));
        return;
      }
      forward(req, body, res, action?.kind === 'hold' ? action.ms : 0);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    arm(rule) {
      armed.push({ ...rule, left: rule.count ?? 1 });
    },
    calls(operation, bodyIncludes) {
      return seen.filter(
        (s) => s.operation === operation && (bodyIncludes === undefined || s.body.includes(bodyIncludes)),
      ).length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
