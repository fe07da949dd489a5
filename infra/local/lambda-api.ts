/**
 * AWS Lambda's Invoke API on loopback (`LAMBDA_PORT`), for every function of serverless.yml, so
 * `aws lambda invoke --endpoint-url` and `@aws-sdk/client-lambda` (through `AWS_ENDPOINT_URL_LAMBDA`) drive a
 * function the way another AWS workflow would: `POST /2015-03-31/functions/{FunctionName}/invocations`.
 *
 * As Lambda answers: `RequestResponse` (the default) is 200 with the result, or 200 with
 * `X-Amz-Function-Error: Unhandled` and `{"errorType","errorMessage"}` where errorType is the error's `name`;
 * `Event` is 202 and runs in the background; `DryRun` is 204. SigV4 signatures are accepted unverified (any
 * credentials). Not emulated: versions and aliases other than `$LATEST`, the async retries and destinations of
 * `Event`, log tails, and freezing a timed-out function (its work goes on here after the timeout answer).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { LocalFunction, LocalFunctions } from './functions';

export interface LambdaApiOptions {
  functions: LocalFunctions;
  /** Goes into the ARNs of error messages, as Lambda's own. */
  region: string;
  host?: string;
  port?: number;
  log?: (line: string) => void;
}

export interface LocalLambdaApi {
  url: string;
  port: number;
  close(): Promise<void>;
}

const ACCOUNT = '000000000000';
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
/** A name, a partial ARN (`<account>:function:<name>`) or a full ARN, each with an optional `:qualifier`. */
const FUNCTION_NAME =
  /^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?([\w-]+)(?::([\w$-]+))?$/;

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A Lambda service error: the SDK reads its code from `x-amzn-ErrorType`. */
const serviceError = (status: number, type: string, message: string): Answer => ({
  status,
  headers: { 'x-amzn-errortype': type },
  body: JSON.stringify({ Type: 'User', message }),
});

/** What the Node.js runtime reports for an error the handler threw. */
function functionError(errorType: string, errorMessage: string): Answer {
  return {
    status: 200,
    headers: { 'x-amz-function-error': 'Unhandled' },
    body: JSON.stringify({ errorType, errorMessage }),
  };
}

function thrown(error: unknown): Answer {
  return error instanceof Error
    ? functionError(error.name, error.message)
    : functionError(typeof error, String(error));
}

export async function startLambdaApi(options: LambdaApiOptions): Promise<LocalLambdaApi> {
  const { functions, region } = options;
  const log = options.log ?? (() => {});
  const arn = (name: string) => `arn:aws:lambda:${region}:${ACCOUNT}:function:${name}`;

  /** The function's result within its timeout, or Lambda's timeout error. */
  async function requestResponse(fn: LocalFunction, event: unknown, requestId: string): Promise<Answer> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Answer>((resolve) => {
      timer = setTimeout(() => {
        const seconds = (fn.timeoutMs / 1000).toFixed(2);
        resolve(
          functionError(
            'Sandbox.Timedout',
            `RequestId: ${requestId} Error: Task timed out after ${seconds} seconds`,
          ),
        );
      }, fn.timeoutMs);
    });
    const ran = functions.invoke(fn, event, requestId).then(
      // A handler that returns nothing is `null` on the wire, as Lambda sends it.
      (result): Answer => ({ status: 200, body: JSON.stringify(result ?? null) }),
      thrown,
    );
    try {
      return await Promise.race([ran, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function answer(req: IncomingMessage, body: Buffer, requestId: string): Promise<Answer> {
    const url = new URL(req.url ?? '/', 'http://local');
    const path = INVOKE_PATH.exec(url.pathname);
    if (req.method !== 'POST' || !path) {
      return serviceError(
        404,
        'UnknownOperationException',
        `${req.method} ${url.pathname} is not Lambda's Invoke`,
      );
    }
    const requested = decodeURIComponent(path[1] ?? '');
    const [, name = requested, inName] = FUNCTION_NAME.exec(requested) ?? [];
    const qualifier = url.searchParams.get('Qualifier') ?? inName;
    const fn = functions.find(name);
    if (!fn || (qualifier !== undefined && qualifier !== '$LATEST')) {
      const known = functions.list.map((f) => f.key).join(', ');
      return serviceError(
        404,
        'ResourceNotFoundException',
        `Function not found: ${arn(qualifier ? `${name}:${qualifier}` : name)} (functions here: ${known}; only $LATEST)`,
      );
    }
    let event: unknown = {};
    if (body.length > 0) {
      try {
        event = JSON.parse(body.toString('utf8'));
      } catch {
        // Not V8's message: it quotes the payload, which may hold a name or an ID number.
        return serviceError(
          400,
          'InvalidRequestContentException',
          'Could not parse request body into json: the payload is not one JSON value',
        );
      }
    }
    const type = req.headers['x-amz-invocation-type'] ?? 'RequestResponse';
    switch (type) {
      case 'RequestResponse':
        return requestResponse(fn, event, requestId);
      case 'Event':
        void requestResponse(fn, event, requestId).then((a) =>
          log(
            `Event ${fn.key} (${requestId}) ended ${a.headers?.['x-amz-function-error'] ? `in error ${a.body}` : 'well'}`,
          ),
        );
        return { status: 202 };
      case 'DryRun':
        return { status: 204 };
      default:
        return serviceError(
          400,
          'InvalidParameterValueException',
          `X-Amz-Invocation-Type ${String(type)} is not RequestResponse, Event or DryRun`,
        );
    }
  }

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const requestId = randomUUID();
    const started = Date.now();
    // Only a malformed request can make answer() throw (a bad %-escape in the name): Lambda's 400 for it.
    const a = await answer(req, Buffer.concat(chunks), requestId).catch((error: Error) =>
      serviceError(400, 'InvalidParameterValueException', error.message),
    );
    res.writeHead(a.status, {
      'content-type': 'application/json',
      'x-amzn-requestid': requestId,
      ...(a.status === 200 ? { 'x-amz-executed-version': '$LATEST' } : {}),
      ...a.headers,
    });
    res.end(a.body);
    const error = a.headers?.['x-amz-function-error'] ?? a.headers?.['x-amzn-errortype'];
    log(`${req.method} ${req.url} -> ${a.status}${error ? ` ${error}` : ''} (${Date.now() - started} ms)`);
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
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
