import { lambdaClient } from '../aws/lambda-client';
import { LambdaCommandInvoker } from '../aws/lambda-invoker';
import { sqsClient } from '../aws/sqs-client';
import { SqsRedelivery } from '../aws/sqs-redelivery';
import type { CommandRouterDeps } from '../commands/ports';
import type { Wiring } from '../http/lambda';
import { Cached } from './cache';
import { readCommandSettings } from './command-settings';
import { eventPublisher } from './publish-deps';
import { processRuntime, type Runtime, wire } from './runtime';

/**
 * The commands router's dependencies: the owning functions by their deployed names, the bus, the queue's
 * receive count, and the queue itself for the visibility of the messages it leaves there. It reads no key material and calls neither WeChat Pay nor DynamoDB: the functions it invokes do.
 */
export function commandDeps(runtime: Runtime = processRuntime): Wiring<CommandRouterDeps> {
  const built = new Cached<CommandRouterDeps>(runtime.clock);
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
      redelivery: new SqsRedelivery(sqsClient()),
    }));
  });
}
