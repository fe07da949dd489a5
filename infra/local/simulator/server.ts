import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { handleV3 } from './api';
import type { IncomingCall } from './auth';
import type { Reply, SimContext } from './context';
import { newRequestId, randomAlnum, rsaSign, signatureMessage } from './crypto';
import { WechatError } from './errors';
import { throttled } from './quota';
import { handleSandbox } from './sandbox';
import { showSignPage, submitSignPage } from './signing';
import type { RecordedRequest } from './types';

const MAX_BODY_BYTES = 1024 * 1024;

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        reject(new BodyTooLarge(`request body exceeds ${MAX_BODY_BYTES} bytes`));
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function errorReply(err: WechatError): Reply {
  return { status: err.status, json: err.body() };
}

async function route(ctx: SimContext, call: IncomingCall, path: string): Promise<Reply> {
  if (path.startsWith('/v3/')) return handleV3(ctx, call);
  const params = new URLSearchParams(call.url.split('?', 2)[1] ?? '');
  if (call.method === 'GET' && path === '/sign') return showSignPage(ctx, params);
  const form = () => new URLSearchParams(call.body.toString('utf8'));
  if (call.method === 'POST' && path === '/sign/agree') return submitSignPage(ctx, 'agreed', form());
  if (call.method === 'POST' && path === '/sign/decline') return submitSignPage(ctx, 'declined', form());
  if (path.startsWith('/sandbox/')) return handleSandbox(ctx, call.method, path, call.body);
  return { status: 404, json: { code: 'NOT_FOUND', message: `no route ${call.method} ${path}` } };
}

/** Writes the reply; /v3 answers (errors included) are signed like WeChat Pay's. */
function send(ctx: SimContext, res: ServerResponse, reply: Reply, requestId: string, signed: boolean): void {
  const body =
    reply.json !== undefined
      ? Buffer.from(JSON.stringify(reply.json), 'utf8')
      : Buffer.from(reply.html ?? reply.text ?? '', 'utf8');
  const headers: Record<string, string | number> = { 'Request-ID': requestId, 'Content-Length': body.length };
  if (reply.json !== undefined) headers['Content-Type'] = 'application/json; charset=utf-8';
  if (reply.html !== undefined) headers['Content-Type'] = 'text/html; charset=utf-8';
  if (reply.text !== undefined) headers['Content-Type'] = 'text/plain; charset=utf-8';
  if (reply.location !== undefined) headers.Location = reply.location;
  if (reply.retryAfter !== undefined) headers['Retry-After'] = reply.retryAfter;
  if (signed) {
    const signer = ctx.keys.signer();
    const timestamp = String(Math.floor(ctx.signatureNow() / 1000));
    const nonce = randomAlnum(32);
    headers['Wechatpay-Timestamp'] = timestamp;
    headers['Wechatpay-Nonce'] = nonce;
    headers['Wechatpay-Signature'] = rsaSign(signer.privateKey, signatureMessage([timestamp, nonce], body));
    headers['Wechatpay-Serial'] = signer.serial;
  }
  res.writeHead(reply.status, headers);
  res.end(body);
}

function errorCode(reply: Reply): string | undefined {
  const json = reply.json as { code?: unknown } | undefined;
  return reply.status >= 400 && typeof json?.code === 'string' ? json.code : undefined;
}

export function createSimulatorServer(ctx: SimContext): Server {
  return createServer((req, res) => {
    void handle(ctx, req, res).catch((err: unknown) => {
      ctx.log(`internal error on ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent)
        send(
          ctx,
          res,
          { status: 500, json: { code: 'SYSTEM_ERROR', message: '系统错误' } },
          newRequestId(),
          false,
        );
    });
  });
}

async function handle(ctx: SimContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = newRequestId();
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  const path = url.split('?', 1)[0] ?? '/';
  const signed = path.startsWith('/v3/');
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch (err) {
    if (!(err instanceof BodyTooLarge)) throw err;
    send(
      ctx,
      res,
      { status: 413, json: { code: 'INVALID_REQUEST', message: '请求体过大' } },
      requestId,
      signed,
    );
    return;
  }
  const call: IncomingCall = { method, url, headers: req.headers, body };
  if (path.startsWith('/sandbox/')) {
    send(ctx, res, await route(ctx, call, path), requestId, false);
    return;
  }
  const record: RecordedRequest = {
    request_id: requestId,
    at: new Date().toISOString(),
    method,
    url,
    headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
    body: body.toString('utf8'),
    status: 0,
  };
  ctx.requests.push(record);
  // A spent quota is refused before anything else, as WeChat Pay's gateway does: the call processed nothing.
  const fault = throttled(ctx, path) ?? ctx.faults.take(method, path);
  if (fault?.kind === 'hang') {
    record.fault = 'hang';
    ctx.log(`fault: hanging ${method} ${url}`);
    return;
  }
  let reply: Reply;
  if (fault?.kind === 'status') {
    record.fault = 'status';
    const { status, body, raw, retryAfter } = fault;
    reply = {
      status,
      ...(raw !== undefined ? { text: raw } : { json: body }),
      ...(retryAfter !== undefined ? { retryAfter } : {}),
    };
  } else {
    try {
      reply = await route(ctx, call, path);
    } catch (err) {
      if (!(err instanceof WechatError)) throw err;
      reply = errorReply(err);
    }
  }
  if (fault?.kind === 'drop') {
    record.fault = 'drop';
    ctx.log(`fault: processed ${method} ${url} (${reply.status}), dropping the connection`);
    req.socket.destroy();
    return;
  }
  if (fault?.kind === 'delay') {
    record.fault = 'delay';
    ctx.log(`fault: processed ${method} ${url} (${reply.status}), answering ${fault.ms} ms late`);
    await sleep(fault.ms);
  }
  record.status = reply.status;
  const code = errorCode(reply);
  if (code) record.code = code;
  ctx.log(`${method} ${path} -> ${reply.status}${code ? ` ${code}` : ''} Request-ID ${requestId}`);
  send(ctx, res, reply, requestId, signed);
}
