import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { LambdaCommandInvoker } from '../../../../lib/aws/lambda-invoker';
import { DependencyUnavailable } from '../../../../lib/errors';

const NAMES = {
  presign: 'svc-prod-presign',
  contracts: 'svc-prod-contracts',
  repayments: 'svc-prod-repayments',
};
const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)) as never;
const INVOCATION = {
  command: 'SyncRequested' as const,
  body: { out_contract_code: 'C1' },
  correlation_id: 'c',
};

describe('LambdaCommandInvoker', () => {
  const client = new LambdaClient({ region: 'ap-southeast-1' });
  const lambda = mockClient(client);
  const invoker = new LambdaCommandInvoker(client, NAMES);

  beforeEach(() => lambda.reset());

  it('invokes the owning function by its deployed name, RequestResponse, with the command as the payload', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ result: { state: 'SIGNED' } }) });
    assert.deepEqual(await invoker.invoke('contracts', INVOCATION), { result: { state: 'SIGNED' } });
    const [call] = lambda.commandCalls(InvokeCommand);
    const input = call?.args[0].input;
    assert.equal(input?.FunctionName, 'svc-prod-contracts');
    assert.equal(input?.InvocationType, 'RequestResponse');
    assert.deepEqual(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array)), INVOCATION);
  });

  it('hands a refusal back as it came', async () => {
    const refusal = { error: { name: 'ContractNotFound', message: 'no contract', fields: [] } };
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload(refusal) });
    assert.deepEqual(await invoker.invoke('contracts', INVOCATION), refusal);
  });

  it('a throttled invoke, a crash, a timeout or an answer of no known shape is DependencyUnavailable', async () => {
    const cases = [
      () =>
        lambda
          .on(InvokeCommand)
          .rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} })),
      () =>
        lambda.on(InvokeCommand).resolves({
          FunctionError: 'Unhandled',
          Payload: payload({
            errorType: 'Sandbox.Timedout',
            errorMessage: 'Task timed out after 29.00 seconds',
          }),
        }),
      () =>
        lambda.on(InvokeCommand).resolves({
          FunctionError: 'Unhandled',
          Payload: payload({ errorType: 'TypeError', errorMessage: '110101199003074477' }),
        }),
      () => lambda.on(InvokeCommand).resolves({ Payload: payload({ state: 'SIGNED' }) }),
    ];
    const messages: string[] = [];
    for (const arrange of cases) {
      lambda.reset();
      arrange();
      await assert.rejects(invoker.invoke('presign', INVOCATION), (error: unknown) => {
        assert.ok(error instanceof DependencyUnavailable);
        messages.push(error.message);
        return true;
      });
    }
    assert.match(messages[0] ?? '', /Invoke svc-prod-presign failed: TooManyRequestsException/);
    assert.match(messages[1] ?? '', /svc-prod-presign ended in Unhandled \(Sandbox\.Timedout\)/);
    assert.ok(!messages[2]?.includes('110101199003074477'), 'a crash message is not read');
    assert.match(messages[3] ?? '', /answered neither/);
  });
});
