import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { startTestStack, type TestStack } from '../../../support/local/stack';

// The local Step Functions endpoint through @aws-sdk/client-sfn, as repaymentDay reaches it: the deployed
// definitions of infra/aws, run in process, with Step Functions' own errors for what it refuses.
describe('local Step Functions', () => {
  let stack: TestStack;
  let sfn: SFNClient;
  before(async () => {
    stack = await startTestStack();
    sfn = new SFNClient({
      endpoint: stack.stepFunctions.url,
      region: 'ap-southeast-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });
  after(async () => {
    sfn?.destroy();
    await stack?.close();
  });

  const machine = () => {
    const found = stack.stepFunctions.machines.find((m) => m.logicalId === 'RepaymentDayStateMachine');
    assert.ok(found, 'the repayment-day state machine of infra/aws is served');
    return found.arn;
  };
  const input = JSON.stringify({ date: '2026-12-02', run_id: 'local-1', shards: [0, 1, 2], workers: 2 });

  it('serves the state machines serverless.yml deploys, under the names it gives them', () => {
    assert.deepEqual(stack.stepFunctions.machines.map((m) => m.logicalId).sort(), [
      'PresignStateMachine',
      'RepaymentDayStateMachine',
    ]);
    assert.match(
      machine(),
      /^arn:aws:states:ap-southeast-1:000000000000:stateMachine:wechatpay-credit-repayment-local-repayment-day$/,
    );
    assert.equal(stack.env.REPAYMENT_DAY_STATE_MACHINE_ARN, machine());
  });

  it('runs an execution on the definition to its end: SUCCEEDED with the Complete task’s output', async () => {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machine(), name: 'local-1', input }),
    );
    assert.ok(executionArn?.endsWith(':execution:wechatpay-credit-repayment-local-repayment-day:local-1'));
    // The same name and input while it runs is the same execution; another input is refused.
    const again = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machine(), name: 'local-1', input }),
    );
    assert.equal(again.executionArn, executionArn);
    await assert.rejects(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machine(), name: 'local-1', input: '{}' })),
      ExecutionAlreadyExists,
    );
    await stack.stepFunctions.finished(executionArn ?? '');
    const done = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    assert.equal(done.status, 'SUCCEEDED', `${done.error}: ${done.cause}`);
    const output = JSON.parse(done.output ?? '{}');
    assert.deepEqual(
      [output.date, output.run_id, output.shards, output.open],
      ['2026-12-02', 'local-1', 3, 0],
    );
  });

  it('answers Step Functions’ errors for an unknown machine or execution', async () => {
    await assert.rejects(
      sfn.send(new StartExecutionCommand({ stateMachineArn: `${machine()}-nope`, input: '{}' })),
      StateMachineDoesNotExist,
    );
    await assert.rejects(
      sfn.send(
        new DescribeExecutionCommand({
          executionArn: `${machine().replace(':stateMachine:', ':execution:')}:nope`,
        }),
      ),
      ExecutionDoesNotExist,
    );
  });

  it('a failing task ends the execution FAILED with the error’s name and message', async () => {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machine(),
        input: JSON.stringify({ date: 'not-a-date', run_id: 'bad', shards: [0], workers: 1 }),
      }),
    );
    // A page the worker refuses is caught per shard; the Complete task then refuses the date too.
    const done = await stack.stepFunctions.finished(executionArn ?? '');
    assert.deepEqual([done.status, done.error], ['FAILED', 'ValidationFailed']);
    assert.match(done.cause ?? '', /date/);
  });
});
