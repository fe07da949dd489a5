import { lambdaClient } from '../aws/lambda-client';
import { LambdaCommandInvoker } from '../aws/lambda-invoker';
import type { RunCommandDeps } from '../commands/ports';
import type { Wiring } from '../http/lambda';
import { Cached } from './cache';
import { readCommandSettings } from './command-settings';
import { eventPublisher } from './publish-deps';
import { processRuntime, type Runtime, wire } from './runtime';

/**
 * The commands router's dependencies: the owning functions by their deployed names, the bus, the queue's
 * receive count. It reads no key material and calls neither WeChat Pay nor DynamoDB: the functions it invokes do.
 */
export function commandDeps(runtime: Runtime = processRuntime): Wiring<RunCommandDeps> {
  const built = new Cached<RunCommandDeps>(runtime.clock);
  return wire(runtime, async () => {
    const settings = readCommandSettings(runtime.env);
    const { functionPrefix: prefix } = settings;
    return built.get(JSON.stringify(settings), Number.POSITIVE_INFINITY, () => ({
      invoker: new LambdaCommandInvoker(lambdaClient(), {
        presign: `${prefix}presign`,
        contracts: `${prefix}contracts`,
        repayments: `${prefix}repayments`,
      }),
      publisher: eventPublisher(runtime, settings.eventBusName),
      clock: runtime.clock,
      maxReceiveCount: settings.maxReceiveCount,
    }));
  });
}
