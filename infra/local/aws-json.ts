/**
 * An AWS JSON 1.0 endpoint on loopback, as the SDK clients of the local stand-ins speak it: a POST whose
 * `X-Amz-Target` is `<service prefix>.<Operation>` and whose body is the input, answered with the output, or with
 * `{__type, message}` and the error's status (Step Functions' and SQS's local endpoints).
 */
import { createServer } from 'node:http';

type Json = ReturnType<typeof JSON.parse>;

export interface AwsJsonRefusal {
  status: number;
  /** The error's `__type`, as the service names it (the SDK turns it into the error's name). */
  type: string;
  message: string;
}

export interface AwsJsonEndpoint {
  url: string;
  close(): Promise<void>;
}

export async function serveAwsJson(options: {
  host: string;
  /** 0: a free port. */
  port: number;
  /** X-Amz-Target's service prefix (`AWSStepFunctions`, `AmazonSQS`). */
  target: string;
  /** The output of `operation` (the whole target when it is not this service's); throws to refuse. */
  answer(operation: string, input: Json): unknown;
  /** What a thrown error, or a body that is not JSON, is answered with. */
  refusal(error: unknown): AwsJsonRefusal;
}): Promise<AwsJsonEndpoint> {
  const prefix = `${options.target}.`;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(value));
      };
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(prefix) ? target.slice(prefix.length) : target;
      try {
        reply(200, options.answer(operation, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')));
      } catch (error) {
        const { status, type, message } = options.refusal(error);
        reply(status, { __type: type, message });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${options.host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
