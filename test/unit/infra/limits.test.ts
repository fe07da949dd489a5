import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { iamStatements, ofType, packaged, propertiesOf, type Template } from '../../support/infra/package';

// Limits and records: reserved concurrency everywhere, scheduled functions that report failed runs, timeouts
// inside API Gateway's, a year of logs with the caller's identity, and the APIv3 secret readable by its readers only.

let template: Template;
const API_GATEWAY_TIMEOUT_S = 30;

describe('limits and records', () => {
  before(
    async () => {
      ({ template } = await packaged<Template>());
    },
    { timeout: 300_000 },
  );

  it('reserves concurrency for every function, one at a time for the scheduled ones', () => {
    for (const [id, fn] of ofType(template, 'AWS::Lambda::Function')) {
      assert.ok(Number(fn.Properties.ReservedConcurrentExecutions) > 0, `${id} has no reserved concurrency`);
    }
    assert.equal(template.Resources.ReconcileLambdaFunction?.Properties.ReservedConcurrentExecutions, 1);
  });

  it('sends failed scheduled runs to the scheduled-failures queue, which is alarmed', () => {
    for (const [fn, role] of [
      ['Reconcile', 'ReconcileRole'],
      ['Certificates', 'CertificatesRole'],
      ['Outbox', 'PublishRole'],
    ]) {
      const config = template.Resources[`${fn}LambdaEvConf`]?.Properties;
      assert.deepEqual(
        config?.DestinationConfig,
        { OnFailure: { Destination: { 'Fn::GetAtt': ['ScheduledFailuresQueue', 'Arn'] } } },
        fn,
      );
      const send = iamStatements(template).find(
        (s) => s.owner === role && s.statement.Sid === 'ReportFailedRun',
      );
      assert.deepEqual(send?.statement.Resource, { 'Fn::GetAtt': ['ScheduledFailuresQueue', 'Arn'] }, fn);
    }
    const dims = template.Resources.ScheduledRunFailedAlarm?.Properties.Dimensions;
    assert.deepEqual(dims, [
      { Name: 'QueueName', Value: { 'Fn::GetAtt': ['ScheduledFailuresQueue', 'QueueName'] } },
    ]);
  });

  it("keeps every function behind a route inside API Gateway's 30 s, with room for presign's three WeChat Pay attempts", () => {
    const integrations = ofType(template, 'AWS::ApiGatewayV2::Integration');
    for (const [id, integration] of integrations) {
      assert.ok(Number(integration.Properties.TimeoutInMillis) <= API_GATEWAY_TIMEOUT_S * 1000, id);
      const uri = JSON.stringify(integration.Properties.IntegrationUri);
      const fn = uri.match(/"(\w+)LambdaFunction"/)?.[1];
      const timeout = Number(template.Resources[`${fn}LambdaFunction`]?.Properties.Timeout);
      assert.ok(timeout < API_GATEWAY_TIMEOUT_S, `${fn} timeout ${timeout} s`);
    }
    const presign = propertiesOf(template, 'PresignLambdaFunction');
    const env = (presign.Environment as { Variables: Record<string, string> }).Variables;
    const attemptMs = Number(env.WECHATPAY_TIMEOUT_MS);
    assert.ok(attemptMs > 0, 'WECHATPAY_TIMEOUT_MS is set');
    // Three WeChat Pay attempts take at most 3 × the per-attempt timeout; the rest is for KMS and DynamoDB.
    assert.ok(
      Number(presign.Timeout) * 1000 >= 3 * attemptMs + 10_000,
      'presign timeout leaves 10 s beside WeChat Pay',
    );
  });

  it('keeps every log group a year or more, encrypted with logsKmsKeyArn when it is given', () => {
    const groups = ofType(template, 'AWS::Logs::LogGroup');
    assert.ok(groups.length >= 8);
    for (const [id, group] of groups) {
      assert.ok(
        Number(group.Properties.RetentionInDays) >= 365,
        `${id} keeps ${group.Properties.RetentionInDays} days`,
      );
      assert.deepEqual(
        group.Properties.KmsKeyId,
        { 'Fn::If': ['UseLogsKmsKey', '', { Ref: 'AWS::NoValue' }] },
        id,
      );
    }
  });

  it('logs who called the HTTP API: IAM identity, account, route, status, latency and request id', () => {
    const settings = template.Resources.HttpApiStage?.Properties.AccessLogSettings as {
      Format: string;
      DestinationArn: unknown;
    };
    const format = JSON.parse(settings.Format) as Record<string, string>;
    for (const variable of [
      '$context.identity.userArn',
      '$context.identity.accountId',
      '$context.routeKey',
      '$context.status',
      '$context.responseLatency',
      '$context.requestId',
    ]) {
      assert.ok(Object.values(format).includes(variable), `${variable} is not logged`);
    }
    assert.deepEqual(settings.DestinationArn, { 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] });
  });

  for (const [secret, policyId] of [
    ['ApiV3KeySecret', 'ApiV3KeySecretPolicy'],
    ['RequestHashKeySecret', 'RequestHashKeySecretPolicy'],
  ] as const) {
    it(`lets only the roles that read ${secret} read it, whatever other IAM policies say`, () => {
      const policy = propertiesOf(template, policyId);
      assert.deepEqual(policy.SecretId, { Ref: secret });
      const [statement] = (policy.ResourcePolicy as { Statement: Record<string, unknown>[] }).Statement;
      assert.ok(statement, 'the secret policy has no statement');
      assert.equal(statement.Effect, 'Deny');
      assert.equal(statement.Action, 'secretsmanager:GetSecretValue');
      const readers = iamStatements(template)
        .filter(({ statement: s }) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))
        .filter(({ statement: s }) => JSON.stringify(s.Resource) === JSON.stringify({ Ref: secret }))
        .map(({ owner }) => (owner === 'CertificateModePolicy' ? 'CertificatesRole' : owner))
        .sort();
      const allowed = (
        statement.Condition as { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [string] }[] } }
      ).ArnNotEquals['aws:PrincipalArn']
        .map((arn) => arn['Fn::GetAtt'][0])
        .sort();
      assert.ok(readers.length > 0, `nobody reads ${secret}`);
      assert.deepEqual(allowed, readers);
    });
  }
});
