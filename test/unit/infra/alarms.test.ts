import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { METRICS } from '../../../lib/metrics';
import {
  ofType,
  PACKAGE_PARAMS,
  packaged,
  propertiesOf,
  type Resource,
  type Template,
} from '../../support/infra/package';

// Someone is told: every alarm reaches the alert topic when it fires and when it clears, the topic's subscribers
// are the alarmSubscribers parameter, and our own metrics are counted per stage.

let template: Template;
const topic = { Ref: 'AlertsTopic' };
const functions = [
  'Presign',
  'Notify',
  'Contracts',
  'Repayments',
  'Reconcile',
  'Publish',
  'Outbox',
  'Notifications',
  'Certificates',
  'Commands',
];

function alarm(id: string): Resource['Properties'] {
  const found = template.Resources[id];
  assert.equal(found?.Type, 'AWS::CloudWatch::Alarm', `${id} is not an alarm`);
  return found?.Properties ?? {};
}

describe('alarms', () => {
  before(
    async () => {
      ({ template } = await packaged<Template>());
    },
    { timeout: 300_000 },
  );

  it('sends every alarm to the alert topic, AlarmActions and OKActions both', () => {
    const alarms = ofType(template, 'AWS::CloudWatch::Alarm');
    assert.ok(alarms.length >= 22, `only ${alarms.length} alarms`);
    for (const [id, { Properties: p }] of alarms) {
      assert.deepEqual(p.AlarmActions, [topic], `${id} AlarmActions`);
      assert.deepEqual(p.OKActions, [topic], `${id} OKActions`);
      assert.match(
        String(p.AlarmName),
        /^wechatpay-credit-repayment-citest-/,
        `${id} is named for its stage`,
      );
    }
  });

  it('subscribes the alarmSubscribers parameter to an encrypted topic', () => {
    const p = template.Resources.AlertsTopic?.Properties;
    assert.deepEqual(p?.Subscription, [
      { Protocol: 'email', Endpoint: 'payments-oncall@example.com' },
      { Protocol: 'https', Endpoint: 'https://hooks.example.com/alerts' },
    ]);
    assert.ok(PACKAGE_PARAMS.alarmSubscribers.includes('payments-oncall@example.com'));
    assert.deepEqual(p?.KmsMasterKeyId, { Ref: 'AlertsKey' });
    assert.equal(template.Resources.AlertsKey?.Properties.EnableKeyRotation, true);
  });

  it("alarms on each function's Errors and Throttles", () => {
    for (const fn of functions) {
      for (const metric of ['Errors', 'Throttles']) {
        const p = alarm(`${fn}${metric}Alarm`);
        assert.equal(p.Namespace, 'AWS/Lambda');
        assert.equal(p.MetricName, metric);
        assert.deepEqual(p.Dimensions, [{ Name: 'FunctionName', Value: { Ref: `${fn}LambdaFunction` } }]);
      }
    }
  });

  it('alarms on the failure paths: callbacks, dead letters, the outbox, the API, the workflow, scheduled runs', () => {
    const expected: Record<string, [string, string]> = {
      CallbacksFailingAlarm: ['WechatPayCreditRepayment', 'CallbackRejected'],
      SignatureRejectionsAlarm: ['WechatPayCreditRepayment', 'CallbackRejected'],
      UnhandledNotificationsAlarm: ['WechatPayCreditRepayment', 'NotificationUnhandled'],
      PlatformCertificateExpiryAlarm: ['WechatPayCreditRepayment', 'PlatformCertificateDaysLeft'],
      EventsDeadLetterAlarm: ['AWS/SQS', 'ApproximateNumberOfMessagesVisible'],
      ScheduledRunFailedAlarm: ['AWS/SQS', 'ApproximateNumberOfMessagesVisible'],
      OutboxIteratorAgeAlarm: ['AWS/Lambda', 'IteratorAge'],
      EventsPublishFailingAlarm: ['WechatPayCreditRepayment', 'EventPublishFailed'],
      OutboxPendingAlarm: ['WechatPayCreditRepayment', 'OutboxPending'],
      Api5xxAlarm: ['AWS/ApiGateway', '5xx'],
      PresignWorkflowFailedAlarm: ['AWS/States', 'ExecutionsFailed'],
      SigningKeyTamperAlarm: ['AWS/Events', 'TriggeredRules'],
      RepaymentPollExhaustedAlarm: ['WechatPayCreditRepayment', 'RepaymentPollExhausted'],
    };
    for (const [id, [namespace, metric]] of Object.entries(expected)) {
      const p = alarm(id);
      assert.equal(p.Namespace, namespace, id);
      assert.equal(p.MetricName, metric, id);
    }
    const reasons = (id: string) =>
      (alarm(id).Dimensions as { Name: string; Value: unknown }[]).find((d) => d.Name === 'reason')?.Value;
    assert.equal(reasons('CallbacksFailingAlarm'), 'store');
    assert.equal(reasons('SignatureRejectionsAlarm'), 'signature');
    assert.ok(Number(alarm('SignatureRejectionsAlarm').Threshold) > 0, 'a spike, not a single rejection');
    assert.equal(template.Resources.PlatformCertificateExpiryAlarm?.Condition, 'PlatformCertificatesEnabled');
    assert.equal(alarm('PlatformCertificateExpiryAlarm').ComparisonOperator, 'LessThanThreshold');
    // Throttling for minutes, not one failed publish that the stream's next retry clears.
    assert.equal(alarm('EventsPublishFailingAlarm').DatapointsToAlarm, 3);
    assert.equal(alarm('OutboxPendingAlarm').Statistic, 'Maximum');
  });

  it('alarms only on metrics the code emits (lib/metrics.ts)', () => {
    const own = ofType(template, 'AWS::CloudWatch::Alarm').filter(
      ([, a]) => a.Properties.Namespace === 'WechatPayCreditRepayment',
    );
    for (const [id, a] of own) assert.ok(String(a.Properties.MetricName) in METRICS, id);
  });

  it('counts our own metrics per stage: every alarm on them carries the service and stage dimensions', () => {
    const own = ofType(template, 'AWS::CloudWatch::Alarm').filter(
      ([, a]) => a.Properties.Namespace === 'WechatPayCreditRepayment',
    );
    assert.ok(own.length >= 4);
    for (const [id, a] of own) {
      const dims = Object.fromEntries(
        (a.Properties.Dimensions as { Name: string; Value: unknown }[]).map((d) => [d.Name, d.Value]),
      );
      assert.equal(dims.stage, 'citest', `${id} has no stage dimension`);
      assert.equal(dims.service, 'wechatpay-credit-repayment', id);
    }
  });

  it('reminds the topic 30 days before the merchant API certificate expires', () => {
    const p = propertiesOf(template, 'CertificateReminder');
    assert.equal(p.ScheduleExpression, 'at(2031-05-31T08:00:00)');
    assert.deepEqual((p.Target as { Arn: unknown }).Arn, topic);
    assert.match(
      String((p.Target as { Input: string }).Input),
      new RegExp(PACKAGE_PARAMS.wechatpayMerchantSerialNo),
    );
  });

  it('lets only CloudWatch, the tamper rule and TLS publish to the topic', () => {
    const statements = (
      propertiesOf(template, 'AlertsTopicPolicy').PolicyDocument as {
        Statement: { Sid: string; Effect: string; Principal: unknown; Condition: unknown }[];
      }
    ).Statement;
    assert.deepEqual(
      statements.map((s) => [s.Sid, s.Effect]),
      [
        ['AlarmsPublish', 'Allow'],
        ['SigningKeyTamperRulePublishes', 'Allow'],
        ['TlsOnly', 'Deny'],
      ],
    );
    assert.deepEqual(statements[1]?.Condition, {
      ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['SigningKeyTamperRule', 'Arn'] } },
    });
  });
});
