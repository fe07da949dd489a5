import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { CommandFunction } from '../commands/catalogue';
import { isObject } from '../commands/message';
import type { CommandAnswer, CommandInvocation, CommandInvoker } from '../commands/ports';
import { DependencyUnavailable } from '../errors';
import { dependencyUnavailable } from './dependency';

/**
 * Invokes a command's owning function (RequestResponse) through Lambda's Invoke API and reads its answer. A
 * function error (a crash, `Sandbox.Timedout`) carries no refusal of ours, so it is our dependency failing; its
 * message is not read, since a crash's text may quote anything the function held.
 */
export class LambdaCommandInvoker implements CommandInvoker {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionNames: Record<CommandFunction, string>,
  ) {}

  async invoke(fn: CommandFunction, invocation: CommandInvocation): Promise<CommandAnswer> {
    const name = this.functionNames[fn];
    let output: { Payload?: Uint8Array; FunctionError?: string };
    try {
      output = await this.client.send(
        new InvokeCommand({
          FunctionName: name,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(invocation)),
        }),
      );
    } catch (error) {
      throw dependencyUnavailable('Lambda', `Invoke ${name}`, error);
    }
    const answer = parse(output.Payload);
    if (output.FunctionError) {
      const type = isObject(answer) && typeof answer.errorType === 'string' ? ` (${answer.errorType})` : '';
      throw new DependencyUnavailable('Lambda', `${name} ended in ${output.FunctionError}${type}`);
    }
    if (isObject(answer) && (isObject(answer.result) || isObject(answer.error)))
      return answer as CommandAnswer;
    throw new DependencyUnavailable('Lambda', `${name} answered neither {result} nor {error}`);
  }
}

function parse(payload: Uint8Array | undefined): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(payload ?? new Uint8Array()));
  } catch {
    return undefined;
  }
}
