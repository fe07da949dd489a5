/**
 * The operator's commands (docs/deploy.md, "Operator commands"): each invokes one of the service's functions
 * through AWS Lambda's Invoke API and prints its answer, so an operator needs `lambda:InvokeFunction` and nothing
 * of the function's own rights (the APIv3 key, the tables).
 *
 *   npm run notifications -- list [--cursor C] [--repayment-cursor C] | apply [id …]
 *                                                                the notifications kept UNHANDLED
 *   npm run outbox -- list | replay                              the events kept unpublished
 *
 * Deployed: `--stage prod` invokes `wechatpay-credit-repayment-prod-<function>` in AWS_REGION (default
 * ap-southeast-1), with the caller's credentials. Without `--stage`: the local stack's Lambda API (`npm start`,
 * LAMBDA_PORT 3002), or wherever AWS_ENDPOINT_URL_LAMBDA points.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

const SERVICE = 'wechatpay-credit-repayment';
const LOCAL_ENDPOINT = 'http://127.0.0.1:3002';

export interface Invocation {
  functionName: string;
  payload: Record<string, unknown>;
  /** Where to invoke without AWS: the local stack, unless a stage names a deployed one. */
  local: boolean;
}

/** What the command line asks for, or an error naming what is wrong with it. */
export function parseCommand(argv: string[]): Invocation {
  const [fn, command, ...rest] = argv;
  const stageAt = rest.indexOf('--stage');
  const stage = stageAt >= 0 ? rest[stageAt + 1] : undefined;
  if (stageAt >= 0 && !stage) throw new Error('--stage needs a stage name (e.g. --stage prod)');
  const args = stageAt >= 0 ? [...rest.slice(0, stageAt), ...rest.slice(stageAt + 2)] : rest;
  const functionName = stage ? `${SERVICE}-${stage}-${fn}` : String(fn);
  const invocation = (payload: Record<string, unknown>) => ({ functionName, payload, local: !stage });
  if (fn === 'notifications' && command === 'list') {
    const payload: Record<string, unknown> = { command: 'list' };
    for (const [flag, field] of [
      ['--cursor', 'cursor'],
      ['--repayment-cursor', 'repayment_cursor'],
    ] as const) {
      const at = args.indexOf(flag);
      if (at < 0) continue;
      const cursor = args[at + 1];
      if (!cursor) throw new Error(`${flag} needs the ${field} a list printed`);
      payload[field] = cursor;
    }
    return invocation(payload);
  }
  if (fn === 'notifications' && command === 'apply') {
    return invocation(args.length > 0 ? { command: 'apply', ids: args } : { command: 'apply' });
  }
  if (fn === 'outbox' && (command === 'list' || command === 'replay')) return invocation({ command });
  throw new Error(
    `unknown command "${[fn, command].filter(Boolean).join(' ')}": use notifications list|apply [id …] or outbox list|replay, optionally with --stage <stage>`,
  );
}

/** Invokes and returns the function's answer; a function error is thrown with Lambda's errorType and message. */
export async function invoke(invocation: Invocation, env: NodeJS.ProcessEnv = process.env): Promise<unknown> {
  const local = invocation.local && !env.AWS_ENDPOINT_URL_LAMBDA;
  const client = new LambdaClient({
    region: env.AWS_REGION ?? 'ap-southeast-1',
    ...(local
      ? { endpoint: LOCAL_ENDPOINT, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  try {
    const out = await client.send(
      new InvokeCommand({
        FunctionName: invocation.functionName,
        Payload: Buffer.from(JSON.stringify(invocation.payload)),
      }),
    );
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    const answer: unknown = text ? JSON.parse(text) : undefined;
    if (out.FunctionError) {
      const { errorType, errorMessage } = (answer ?? {}) as { errorType?: string; errorMessage?: string };
      throw new Error(
        `${invocation.functionName} failed: ${errorType ?? out.FunctionError}: ${errorMessage ?? ''}`,
      );
    }
    return answer;
  } finally {
    client.destroy();
  }
}

/** The command line: prints the answer as JSON, or the error and exit code 1. */
export async function main(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  try {
    out(JSON.stringify(await invoke(parseCommand(argv)), null, 2));
    return 0;
  } catch (error) {
    out(`error: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
