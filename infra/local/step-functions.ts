/**
 * AWS Step Functions on loopback (`STATES_PORT`), for the state machines of infra/aws: `StartExecution` and
 * `DescribeExecution` (JSON 1.0, `X-Amz-Target: AWSStepFunctions.<operation>`), so `@aws-sdk/client-sfn`
 * reaches it through `AWS_ENDPOINT_URL_SFN` with no code change. Each execution runs the very ASL definition
 * serverless.yml deploys, interpreted by aws-local-stepfunctions; a Task state on Lambda's invoke integration
 * invokes our function in process with its `Payload` and hands back `{Payload, StatusCode}`, so a function's
 * error keeps its name (DependencyUnavailable, …) for the definition's Retry and Catch.
 *
 * Not emulated: the other operations, the history API, Express's at-least-once starts, IAM. Executions live
 * in memory, as long as the stack runs.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { serveAwsJson } from './aws-json';
import type { LocalFunctions } from './functions';
import { readCloudFormationResources } from './tables';

// aws-local-stepfunctions 3 needs Node 22's Promise.withResolvers; the project still runs on Node 20.19.
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.assign(Promise, {
    withResolvers<T>() {
      let resolve!: (value: T) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((a, b) => {
        resolve = a;
        reject = b;
      });
      return { promise, resolve, reject };
    },
  });
}

const ACCOUNT = '000000000000';
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

type Definition = ConstructorParameters<typeof StateMachine>[0];
type Json = ReturnType<typeof JSON.parse>;

export interface LocalStateMachine {
  /** Its logical id in infra/aws (`RepaymentDayStateMachine`). */
  logicalId: string;
  arn: string;
  definition: Definition;
}

export interface ExecutionDescription {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}

export interface LocalStepFunctions {
  url: string;
  machines: LocalStateMachine[];
  describe(executionArn: string): ExecutionDescription | undefined;
  /** Resolves with the execution's description once it has ended. */
  finished(executionArn: string): Promise<ExecutionDescription>;
  close(): Promise<void>;
}

export interface StepFunctionsOptions {
  root: string;
  functions: LocalFunctions;
  region: string;
  host?: string;
  port?: number;
  log?: (line: string) => void;
}

/**
 * Every AWS::StepFunctions::StateMachine of infra/aws/*.yml that serverless.yml includes, its definition read
 * from its `${file(…)}` and each `!GetAtt <Function>LambdaFunction.Arn` substitution made the local function's ARN.
 */
export function loadStateMachines(
  root: string,
  functions: LocalFunctions,
  region: string,
): LocalStateMachine[] {
  const serverless = readFileSync(join(root, 'serverless.yml'), 'utf8');
  const files = [...serverless.matchAll(/\$\{file\((infra\/aws\/[\w-]+\.yml)\)\}/g)].map(
    (m) => m[1] as string,
  );
  const fnArn = (key: string) =>
    `arn:aws:lambda:${region}:${ACCOUNT}:function:${functions.service}-local-${key}`;
  const holding = files.filter((f) =>
    readFileSync(join(root, f), 'utf8').includes('AWS::StepFunctions::StateMachine'),
  );
  return holding.flatMap((file) =>
    Object.entries(readCloudFormationResources(join(root, file)))
      .filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')
      .map(([logicalId, r]) => {
        const props = r.Properties as {
          StateMachineName: string;
          Definition: string;
          DefinitionSubstitutions?: Json;
        };
        const path = /\$\{file\(([^)]+)\)\}/.exec(props.Definition)?.[1];
        if (!path)
          throw new Error(`${file} ${logicalId}: the local stack runs only a definition in its own file`);
        let text = readFileSync(join(root, path), 'utf8');
        for (const [name, value] of Object.entries(props.DefinitionSubstitutions ?? {})) {
          const target = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0] ?? '';
          const key = functions.list.find(
            (f) => `${f.key[0]?.toUpperCase()}${f.key.slice(1)}LambdaFunction` === target,
          );
          if (!key) throw new Error(`${file} ${logicalId}: ${name} names no function of serverless.yml`);
          text = text.replaceAll(`\${${name}}`, fnArn(key.key));
        }
        const name = props.StateMachineName.replace(/\$\{self:service\}/, functions.service).replace(
          /\$\{sls:stage\}/,
          'local',
        );
        return {
          logicalId,
          arn: `arn:aws:states:${region}:${ACCOUNT}:stateMachine:${name}`,
          definition: JSON.parse(text) as Definition,
        };
      }),
  );
}

/** Every Task state on Lambda's invoke integration, at any depth (Map and Parallel states hold their own). */
function lambdaTasks(states: Record<string, Json>): string[] {
  return Object.entries(states).flatMap(([name, state]) => {
    const inner = [state.ItemProcessor ?? state.Iterator, ...(state.Branches ?? [])].filter(Boolean);
    const own = state.Type === 'Task' && state.Resource === LAMBDA_INVOKE ? [name] : [];
    return [...own, ...inner.flatMap((sub: Json) => lambdaTasks(sub.States))];
  });
}

class SfnError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startStepFunctions(options: StepFunctionsOptions): Promise<LocalStepFunctions> {
  const { functions, region } = options;
  const log = options.log ?? (() => {});
  const machines = loadStateMachines(options.root, functions, region);
  const executions = new Map<string, { description: ExecutionDescription; done: Promise<void> }>();

  /** Lambda's invoke integration: the function's result as `Payload`; its error thrown with its own name. */
  const invoke = async (input: Json) => {
    const fn = functions.find(
      String(input?.FunctionName ?? '')
        .split(':')
        .at(-1) ?? '',
    );
    if (!fn)
      throw Object.assign(new Error(`no function ${input?.FunctionName}`), {
        name: 'Lambda.ResourceNotFoundException',
      });
    return { Payload: ((await functions.invoke(fn, input.Payload)) ?? null) as Json, StatusCode: 200 };
  };

  function start(body: Json): { executionArn: string; startDate: number } {
    const machine = machines.find((m) => m.arn === body.stateMachineArn);
    if (!machine)
      throw new SfnError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${body.stateMachineArn}'`,
      );
    const name = typeof body.name === 'string' ? body.name : randomUUID();
    const executionArn = `${machine.arn.replace(':stateMachine:', ':execution:')}:${name}`;
    const input = typeof body.input === 'string' ? body.input : '{}';
    const existing = executions.get(executionArn);
    if (existing) {
      // Standard's idempotency: the same name and input while it runs is the same execution.
      if (existing.description.input === input && existing.description.status === 'RUNNING') {
        return { executionArn, startDate: existing.description.startDate };
      }
      throw new SfnError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const startDate = Date.now() / 1000;
    const description: ExecutionDescription = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      status: 'RUNNING',
      startDate,
      input,
    };
    const tasks = Object.fromEntries(lambdaTasks(machine.definition.States).map((t) => [t, invoke]));
    const parsed = JSON.parse(input) as Json;
    const run = new StateMachine(machine.definition).run(parsed, {
      overrides: { taskResourceLocalHandlers: tasks },
      context: {
        Execution: { Id: executionArn, Name: name, Input: parsed, StartTime: new Date().toISOString() },
        StateMachine: { Id: machine.arn, Name: machine.arn.split(':').at(-1) },
      },
    });
    const done = run.result
      .then(
        (output) => {
          Object.assign(description, { status: 'SUCCEEDED', output: JSON.stringify(output ?? null) });
        },
        (error: unknown) => {
          const cause = (error as { cause?: unknown }).cause ?? error;
          const e = cause instanceof Error ? cause : new Error(String(cause));
          Object.assign(description, { status: 'FAILED', error: e.name, cause: e.message });
        },
      )
      .finally(() => {
        description.stopDate = Date.now() / 1000;
        log(
          `${name} ${description.status}${description.error ? ` (${description.error}: ${description.cause})` : ''}`,
        );
      });
    executions.set(executionArn, { description, done });
    log(`${name} started on ${machine.logicalId}`);
    return { executionArn, startDate };
  }

  function describe(body: Json): ExecutionDescription {
    const found = executions.get(String(body.executionArn));
    if (!found)
      throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${body.executionArn}'`);
    return found.description;
  }

  const endpoint = await serveAwsJson({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    target: 'AWSStepFunctions',
    answer(operation, body: Json) {
      if (operation === 'StartExecution') return start(body);
      if (operation === 'DescribeExecution') return describe(body);
      throw new SfnError('UnknownOperationException', `${operation || 'no operation'} is not run locally`);
    },
    refusal: (error) => ({
      status: 400,
      type: error instanceof SfnError ? error.type : 'InvalidExecutionInput',
      message: error instanceof Error ? error.message : String(error),
    }),
  });
  return {
    url: endpoint.url,
    machines,
    describe: (arn) => executions.get(arn)?.description,
    async finished(arn) {
      const found = executions.get(arn);
      if (!found) throw new Error(`no execution ${arn}`);
      await found.done;
      return found.description;
    },
    close: () => endpoint.close(),
  };
}
