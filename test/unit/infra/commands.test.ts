import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { COMMAND_NAMES } from '../../../lib/commands/catalogue';
import {
  actions,
  iamStatements,
  ofType,
  packaged,
  propertiesOf,
  type Statement,
  type Template,
} from '../../support/infra/package';

// Commands by queue and by rule, as `serverless deploy` would create them (infra/aws/commands.yml): one rule per
// command into the command queue, dead-letter queues behind the rules and the queue, both alarmed, the router's
// event source mapping and its role, and all of it under the commandQueue parameter.

let template: Template;
const CONDITION = 'CommandQueueEnabled';
const topic = { Ref: 'AlertsTopic' };
const ruleId = (command: string) => `${command}Rule`;

interface Target {
  Id: string;
  Arn: unknown;
  InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string };
  DeadLetterConfig: { Arn: unknown };
  RetryPolicy: { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number };
}

const policyStatements = (id: string) =>
  (propertiesOf(template, id).PolicyDocument as { Statement: Statement[] }).Statement;

describe('commands by queue and by rule (packaged template)', () => {
  before(
    async () => {
      ({ template } = await packaged<Template>());
    },
    { timeout: 300_000 },
  );

  it('puts one rule per command on the service bus, matching its detail-type from any source', () => {
    const rules = ofType(template, 'AWS::Events::Rule').filter(([id]) => id.endsWith('RequestedRule'));
    assert.deepEqual(rules.map(([id]) => id).sort(), COMMAND_NAMES.map(ruleId).sort());
    for (const command of COMMAND_NAMES) {
      const rule = propertiesOf(template, ruleId(command));
      assert.deepEqual(rule.EventBusName, { Ref: 'EventBus' });
      assert.deepEqual(rule.EventPattern, { 'detail-type': [command] });
      assert.equal(rule.State, 'ENABLED');
    }
  });

  it("sends each rule's event to the command queue as the message the router reads, with a DLQ and retry policy", () => {
    for (const command of COMMAND_NAMES) {
      const [target, ...others] = propertiesOf(template, ruleId(command)).Targets as Target[];
      assert.deepEqual(others, [], command);
      assert.deepEqual(target?.Arn, { 'Fn::GetAtt': ['CommandQueue', 'Arn'] });
      assert.deepEqual(target?.InputTransformer.InputPathsMap, { detail: '$.detail', id: '$.id' });
      // What EventBridge sends: the template with the event's detail and id put in.
      const sent = target?.InputTransformer.InputTemplate.replace(
        '<detail>',
        '{"out_contract_code":"C1"}',
      ).replace('<id>', 'e-1');
      assert.deepEqual(JSON.parse(String(sent)), {
        command,
        body: { out_contract_code: 'C1' },
        event_id: 'e-1',
      });
      assert.deepEqual(target?.DeadLetterConfig, {
        Arn: { 'Fn::GetAtt': ['CommandRuleDeadLetterQueue', 'Arn'] },
      });
      assert.ok(
        target &&
          target.RetryPolicy.MaximumRetryAttempts > 0 &&
          target.RetryPolicy.MaximumEventAgeInSeconds <= 3600,
      );
    }
  });

  it('lets only those rules send to the command queue and to their dead-letter queue as EventBridge, over TLS', () => {
    const ruleArns = COMMAND_NAMES.map((c) => ({ 'Fn::GetAtt': [ruleId(c), 'Arn'] }));
    for (const [policy, queue] of [
      ['CommandQueuePolicy', 'CommandQueue'],
      ['CommandRuleDeadLetterQueuePolicy', 'CommandRuleDeadLetterQueue'],
    ] as const) {
      const statements = policyStatements(policy);
      const allows = statements.filter((s) => s.Effect === 'Allow');
      assert.equal(allows.length, 1, policy);
      const [allow] = allows;
      assert.deepEqual(allow?.Principal, { Service: 'events.amazonaws.com' });
      assert.deepEqual(actions(allow as Statement), ['sqs:SendMessage']);
      assert.deepEqual(allow?.Resource, { 'Fn::GetAtt': [queue, 'Arn'] });
      assert.deepEqual(allow?.Condition, { ArnEquals: { 'aws:SourceArn': ruleArns } });
      assert.ok(
        statements.some((s) => s.Sid === 'TlsOnly' && s.Effect === 'Deny'),
        policy,
      );
    }
  });

  it('gives the queue its own DLQ after COMMAND_MAX_RECEIVE_COUNT receives, the number the router reads', () => {
    const queue = propertiesOf(template, 'CommandQueue');
    const redrive = queue.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number };
    assert.deepEqual(redrive.deadLetterTargetArn, { 'Fn::GetAtt': ['CommandDeadLetterQueue', 'Arn'] });
    const router = propertiesOf(template, 'CommandsLambdaFunction');
    const env = (router.Environment as { Variables: Record<string, string> }).Variables;
    assert.equal(String(redrive.maxReceiveCount), env.COMMAND_MAX_RECEIVE_COUNT);
    assert.equal(env.COMMAND_MAX_RECEIVE_COUNT, '5');
    assert.equal(env.COMMAND_FUNCTION_PREFIX, 'wechatpay-credit-repayment-citest-');
    // A message comes back only after the router could have finished with it.
    assert.ok(Number(queue.VisibilityTimeout) >= 6 * Number(router.Timeout));
    for (const id of ['CommandQueue', 'CommandDeadLetterQueue', 'CommandRuleDeadLetterQueue']) {
      assert.equal(propertiesOf(template, id).SqsManagedSseEnabled, true, id);
    }
  });

  it('alarms on both dead-letter queues, to the alert topic', () => {
    for (const [alarm, queue] of [
      ['CommandDeadLetterAlarm', 'CommandDeadLetterQueue'],
      ['CommandRuleDeadLetterAlarm', 'CommandRuleDeadLetterQueue'],
    ] as const) {
      const p = propertiesOf(template, alarm);
      assert.equal(p.Namespace, 'AWS/SQS');
      assert.equal(p.MetricName, 'ApproximateNumberOfMessagesVisible');
      assert.deepEqual(p.Dimensions, [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }]);
      assert.equal(p.Threshold, 0);
      assert.equal(p.ComparisonOperator, 'GreaterThanThreshold');
      assert.deepEqual([p.AlarmActions, p.OKActions], [[topic], [topic]]);
    }
  });

  it('feeds the router from the queue, reporting item failures, no faster than its reserved concurrency', () => {
    const mapping = propertiesOf(template, 'CommandsEventSourceMapping');
    assert.deepEqual(mapping.EventSourceArn, { 'Fn::GetAtt': ['CommandQueue', 'Arn'] });
    assert.deepEqual(mapping.FunctionName, { 'Fn::GetAtt': ['CommandsLambdaFunction', 'Arn'] });
    assert.deepEqual(mapping.FunctionResponseTypes, ['ReportBatchItemFailures']);
    const reserved = propertiesOf(template, 'CommandsLambdaFunction').ReservedConcurrentExecutions;
    assert.equal((mapping.ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency, reserved);
  });

  it('lets the router invoke the three owners, put events on the bus, take its queue and delay its retries, nothing more', () => {
    assert.deepEqual(propertiesOf(template, 'CommandsLambdaFunction').Role, {
      'Fn::GetAtt': ['CommandsRole', 'Arn'],
    });
    const granted = iamStatements(template)
      .filter((s) => s.owner === 'CommandsRole')
      .map(({ statement }) => [actions(statement).sort(), statement.Resource]);
    assert.deepEqual(granted, [
      [['logs:CreateLogStream', 'logs:PutLogEvents'], { 'Fn::GetAtt': ['CommandsLogGroup', 'Arn'] }],
      [['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], '*'],
      [
        ['lambda:InvokeFunction'],
        ['Presign', 'Contracts', 'Repayments'].map((fn) => ({
          'Fn::GetAtt': [`${fn}LambdaFunction`, 'Arn'],
        })),
      ],
      [['events:PutEvents'], { 'Fn::GetAtt': ['EventBus', 'Arn'] }],
      [
        ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
        { 'Fn::GetAtt': ['CommandQueue', 'Arn'] },
      ],
      [['sqs:ChangeMessageVisibility'], { 'Fn::GetAtt': ['CommandQueue', 'Arn'] }],
    ]);
  });

  it('deploys all of it only under the commandQueue parameter, on unless "false"', () => {
    assert.deepEqual(template.Conditions[CONDITION], { 'Fn::Not': [{ 'Fn::Equals': ['true', 'false'] }] });
    const ours = Object.entries(template.Resources).filter(([id]) =>
      /^Command|RequestedRule$|^CommandsLambdaVersion/.test(id),
    );
    assert.ok(ours.length >= 20, `only ${ours.length}`);
    for (const [id, resource] of ours) assert.equal(resource.Condition, CONDITION, id);
    assert.equal((template.Outputs.CommandQueueUrl as { Condition?: string }).Condition, CONDITION);
  });
});
