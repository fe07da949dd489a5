import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readYaml } from '../../../infra/local/tables';
import { PLATFORM_CERTIFICATES_ID } from '../../../lib/aws/dynamo-platform-key-store';
import {
  actions,
  ofType as ofTypeIn,
  PACKAGE_PARAMS,
  packaged,
  type Resource,
  type Statement,
  iamStatements as statementsOf,
  type Template,
} from '../../support/infra/package';

// Packages the real serverless.yml once (offline, dummy credentials) and checks the CloudFormation template
// that `serverless deploy` would send: the security and data-safety properties a deploy must not lose.

interface PolicyDocument {
  Statement: Statement[];
}

const specEnvironment = [
  'STAGE',
  'WECHATPAY_BASE_URL',
  'WECHATPAY_MCHID',
  'WECHATPAY_MERCHANT_SERIAL_NO',
  'WECHATPAY_SIGNING_KEY_ID',
  'WECHATPAY_PUBLIC_KEY_ID',
  'WECHATPAY_PUBLIC_KEY',
  'WECHATPAY_PUBLIC_KEY_SHA256',
  'WECHATPAY_APIV3_KEY',
  'WECHATPAY_NOTIFY_URL',
  'CONTRACTS_TABLE',
  'EVENT_BUS_NAME',
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_LOG_LEVEL',
  'KEY_MATERIAL_MAX_AGE_S',
];

let outDir: string;
let template: Template;

const ofType = (type: string) => ofTypeIn(template, type);
const iamStatements = () => statementsOf(template);

function resource(id: string): Resource {
  const found = template.Resources[id];
  assert.ok(found, `resource ${id} missing (have: ${Object.keys(template.Resources).join(', ')})`);
  return found;
}

function presignFunction(): Resource {
  return resource('PresignLambdaFunction');
}

function presignEnvironment(): Record<string, unknown> {
  return (presignFunction().Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

describe('packaged CloudFormation template', () => {
  before(
    async () => {
      ({ dir: outDir, template } = await packaged<Template>());
    },
    { timeout: 300_000 },
  );

  it('runs every function on nodejs24.x', () => {
    const functions = ofType('AWS::Lambda::Function');
    assert.ok(functions.length > 0, 'no AWS::Lambda::Function in the template');
    for (const [id, fn] of functions) assert.equal(fn.Properties.Runtime, 'nodejs24.x', id);
  });

  it('puts every route behind IAM authorisation except the public, throttled callback route', () => {
    const routes = new Map(
      ofType('AWS::ApiGatewayV2::Route').map(([, route]) => [route.Properties.RouteKey, route.Properties]),
    );
    const callback = 'POST /wechatpay/notifications';
    assert.deepEqual([...routes.keys()].sort(), [
      'GET /contracts/{out_contract_code}',
      'GET /repayments/{out_record_id}',
      'POST /contracts/app-presign',
      'POST /contracts/h5-presign',
      'POST /contracts/{out_contract_code}/repayments',
      'POST /contracts/{out_contract_code}/terminate',
      'POST /repayments/{out_record_id}/deduct',
      callback,
    ]);
    for (const [key, route] of routes) {
      assert.ok(typeof key === 'string');
      if (key === callback)
        assert.notEqual(route.AuthorizationType, 'AWS_IAM', 'WeChat Pay cannot sign with SigV4');
      else assert.equal(route.AuthorizationType, 'AWS_IAM', key);
    }
    const [, stage] = ofType('AWS::ApiGatewayV2::Stage')[0] ?? [];
    const settings = stage?.Properties.RouteSettings as Record<string, Record<string, number>> | undefined;
    const throttle = settings?.[callback];
    assert.ok((throttle?.ThrottlingRateLimit ?? 0) > 0, 'callback route rate-limited');
    assert.ok((throttle?.ThrottlingBurstLimit ?? 0) > 0, 'callback route burst-limited');
  });

  it('keeps contracts forever: key, GSIs (states, reconcile queue), stream outbox, PITR, deletion protection, retained', () => {
    const table = resource('ContractsTable');
    assert.equal(table.DeletionPolicy, 'RetainExceptOnCreate');
    assert.equal(table.UpdateReplacePolicy, 'Retain');
    const p = table.Properties;
    assert.equal(p.TableName, 'wechatpay-credit-repayment-citest-contracts');
    assert.equal(p.BillingMode, 'PAY_PER_REQUEST');
    assert.deepEqual(p.KeySchema, [{ AttributeName: 'out_contract_code', KeyType: 'HASH' }]);
    assert.deepEqual(p.GlobalSecondaryIndexes, [
      {
        IndexName: 'by_state',
        KeySchema: [
          { AttributeName: 'state', KeyType: 'HASH' },
          { AttributeName: 'updated_at', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: 'by_next_check',
        KeySchema: [
          { AttributeName: 'check_shard', KeyType: 'HASH' },
          { AttributeName: 'next_check_at', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    const types = new Map(
      (p.AttributeDefinitions as { AttributeName: string; AttributeType: string }[]).map((d) => [
        d.AttributeName,
        d.AttributeType,
      ]),
    );
    assert.deepEqual(Object.fromEntries(types), {
      out_contract_code: 'S',
      state: 'S',
      updated_at: 'S',
      check_shard: 'S',
      next_check_at: 'S',
    });
    assert.deepEqual(p.StreamSpecification, { StreamViewType: 'NEW_AND_OLD_IMAGES' });
    assert.deepEqual(p.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
    assert.deepEqual(p.DeletionProtectionEnabled, { 'Fn::If': ['TableDeletionProtection', true, false] });
    assert.deepEqual(template.Conditions.TableDeletionProtection, { 'Fn::Equals': ['true', 'true'] });
    assert.deepEqual(p.SSESpecification, { SSEEnabled: true });
  });

  it('keeps repayments forever, with the sparse by_poll, by_due and by_kept indexes and its stream into the outbox', () => {
    const table = resource('RepaymentsTable');
    assert.equal(table.DeletionPolicy, 'RetainExceptOnCreate');
    const p = table.Properties;
    assert.equal(p.TableName, 'wechatpay-credit-repayment-citest-repayments');
    assert.deepEqual(p.KeySchema, [{ AttributeName: 'pk', KeyType: 'HASH' }]);
    const indexes = (
      p.GlobalSecondaryIndexes as { IndexName: string; KeySchema: { AttributeName: string }[] }[]
    ).map((i) => [i.IndexName, ...i.KeySchema.map((k) => k.AttributeName)]);
    assert.deepEqual(indexes, [
      ['by_poll', 'poll_shard', 'poll_at'],
      ['by_due', 'due_shard', 'out_record_id'],
      ['by_kept', 'event_type', 'received_at'],
    ]);
    assert.equal(p.TimeToLiveSpecification, undefined, 'ids are claimed forever: no TTL');
    assert.deepEqual(p.StreamSpecification, { StreamViewType: 'NEW_AND_OLD_IMAGES' });
    assert.deepEqual(p.DeletionProtectionEnabled, { 'Fn::If': ['TableDeletionProtection', true, false] });
    const mappings = ofType('AWS::Lambda::EventSourceMapping').map(([, m]) => m.Properties);
    const streams = mappings.map((m) => JSON.stringify(m.EventSourceArn));
    assert.ok(
      streams.some((arn) => arn.includes('RepaymentsTable')) &&
        streams.some((arn) => arn.includes('ContractsTable')),
    );
    for (const m of mappings) assert.deepEqual(m.FunctionResponseTypes, ['ReportBatchItemFailures']);
  });

  it('lets each repayment path do only what it does: the repayments role never reads the APIv3 key or scans', () => {
    const statements = iamStatements();
    const of = (owner: string) =>
      statements.filter((s) => s.owner === owner).flatMap((s) => actions(s.statement));
    const repayments = of('RepaymentsRole');
    assert.ok(repayments.includes('dynamodb:PutItem'));
    assert.ok(
      !repayments.some(
        (a) => a.startsWith('secretsmanager:') || a === 'dynamodb:Scan' || a === 'dynamodb:Query',
      ),
    );
    assert.deepEqual(of('NotifyRepaymentsPolicy').sort(), ['dynamodb:GetItem', 'dynamodb:PutItem']);
    const poll = statements.find(
      (s) => s.owner === 'ReconcileRepaymentsPolicy' && actions(s.statement).includes('dynamodb:Query'),
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax.
    assert.deepEqual(poll?.statement.Resource, { 'Fn::Sub': '${RepaymentsTable.Arn}/index/by_poll' });
    assert.ok(!statements.some((s) => actions(s.statement).includes('dynamodb:Scan')), 'nobody scans');
  });

  it('expires notification ids by TTL on expires_at_epoch', () => {
    const p = resource('NotificationsTable').Properties;
    assert.deepEqual(p.KeySchema, [{ AttributeName: 'id', KeyType: 'HASH' }]);
    assert.deepEqual(p.TimeToLiveSpecification, { AttributeName: 'expires_at_epoch', Enabled: true });
    assert.deepEqual(p.DeletionProtectionEnabled, { 'Fn::If': ['TableDeletionProtection', true, false] });
  });

  it('gives each function family its own role, none of which can sign through IAM', () => {
    const roleOf = (fn: string) => template.Resources[fn]?.Properties.Role;
    for (const [fn, role] of [
      ['PresignLambdaFunction', 'PresignRole'],
      ['NotifyLambdaFunction', 'NotifyRole'],
      ['ContractsLambdaFunction', 'ContractsRole'],
      ['ReconcileLambdaFunction', 'ReconcileRole'],
      ['PublishLambdaFunction', 'PublishRole'],
      ['CertificatesLambdaFunction', 'CertificatesRole'],
      ['RepaymentsLambdaFunction', 'RepaymentsRole'],
    ] as const) {
      assert.deepEqual(roleOf(fn), { 'Fn::GetAtt': [role, 'Arn'] }, fn);
    }
    // kms:Sign comes from the signing key's own policy only (signing-key.test.ts), so no IAM policy can add a signer.
    const kms = iamStatements().filter(({ statement }) =>
      actions(statement).some((a) => /^kms:|^\*$/.test(a)),
    );
    assert.deepEqual(kms, []);
  });

  it('keeps the indexes away from the API: each is queried by the roles whose work it is, never a table', () => {
    const queried = new Map<string, string[]>();
    for (const { owner, statement } of iamStatements()) {
      if (!actions(statement).includes('dynamodb:Query')) continue;
      const resources = [statement.Resource].flat() as { 'Fn::Sub'?: string }[];
      for (const resource of resources) {
        const index =
          resource['Fn::Sub']?.match(/\/index\/(\w+)$/)?.[1] ?? `not an index: ${JSON.stringify(resource)}`;
        queried.set(index, [...(queried.get(index) ?? []), owner]);
      }
    }
    assert.deepEqual(Object.fromEntries(queried), {
      by_next_check: ['ReconcileRole', 'PublishRole'],
      by_state: ['ReconcileRole'],
      by_unhandled: ['NotificationsRole'],
      by_poll: ['ReconcileRepaymentsPolicy'],
      by_due: ['RepaymentDayWorkerRole'],
      by_kept: ['NotificationsRole'],
    });
    assert.deepEqual(resource('ReconcileRepaymentsPolicy').Properties.Roles, [{ Ref: 'ReconcileRole' }]);
  });

  it('never grants dynamodb, kms, secretsmanager, ssm or events actions on a wildcard resource', () => {
    const statements = iamStatements();
    assert.ok(statements.length > 0, 'no IAM statements found');
    for (const { owner, statement } of statements) {
      const guarded = actions(statement).filter(
        (a) => a === '*' || /^(dynamodb|kms|secretsmanager|ssm|events):/.test(a),
      );
      if (guarded.length === 0) continue;
      assert.ok(
        !JSON.stringify(statement.Resource).includes('*'),
        `${owner} ${statement.Sid ?? ''} grants ${guarded.join(', ')} on ${JSON.stringify(statement.Resource)}`,
      );
    }
  });

  it('does not fall back to the shared default role', () => {
    assert.equal(template.Resources.IamRoleLambdaExecution, undefined);
  });

  it('gives presign the configuration environment, with deployed values naming where secrets live', () => {
    const env = presignEnvironment();
    for (const name of specEnvironment)
      assert.ok(name in env, `${name} missing from the presign environment`);
    assert.equal(env.WECHATPAY_MCHID, PACKAGE_PARAMS.wechatpayMchid);
    assert.equal(env.WECHATPAY_MERCHANT_SERIAL_NO, PACKAGE_PARAMS.wechatpayMerchantSerialNo);
    assert.equal(env.WECHATPAY_PUBLIC_KEY_ID, PACKAGE_PARAMS.wechatpayPublicKeyId);
    assert.equal(env.WECHATPAY_BASE_URL, 'https://api.mch.weixin.qq.com');
    assert.equal(env.WECHATPAY_PUBLIC_KEY, '/wechatpay-credit-repayment/citest/wechatpay-public-key');
    assert.deepEqual(env.WECHATPAY_APIV3_KEY, { Ref: 'ApiV3KeySecret' });
    assert.equal(env.CONTRACTS_TABLE, resource('ContractsTable').Properties.TableName);
    assert.equal(env.EVENT_BUS_NAME, resource('EventBus').Properties.Name);
    assert.equal(env.POWERTOOLS_METRICS_NAMESPACE, 'WechatPayCreditRepayment');
    assert.equal(env.STAGE, 'citest');
    assert.equal(env.WECHATPAY_PUBLIC_KEY_SHA256, PACKAGE_PARAMS.wechatpayPublicKeySha256);
    assert.equal(env.WECHATPAY_PUBLIC_KEY_NEXT_SHA256, '');
    assert.equal(env.WECHATPAY_SIGNING_KEY_ID, 'alias/wechatpay-credit-repayment-citest-merchant');
  });

  it('tells presign its own timeout, from which its claims’ lease is derived', () => {
    assert.equal(presignEnvironment().PRESIGN_TIMEOUT_S, String(presignFunction().Properties.Timeout));
    // 29 s: inside API Gateway's 30 s integration timeout (docs/deploy.md, time budgets).
    assert.equal(presignFunction().Properties.Timeout, 29);
  });

  it('defaults the notify URL to the API’s own callback route', () => {
    assert.deepEqual(template.Conditions.UseApiNotifyUrl, { 'Fn::Equals': ['', ''] });
    const [condition, own] = (presignEnvironment().WECHATPAY_NOTIFY_URL as { 'Fn::If': unknown[] })['Fn::If'];
    assert.equal(condition, 'UseApiNotifyUrl');
    assert.deepEqual(own, {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax.
      'Fn::Sub': 'https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/wechatpay/notifications',
    });
  });

  it('lets presign read exactly the parameter and secret its environment names', () => {
    const own = iamStatements().filter((s) => s.owner === 'PresignRole');
    const bySid = new Map(own.map(({ statement }) => [statement.Sid, statement]));
    const ssm = bySid.get('ReadWechatPayPublicKey')?.Resource as { 'Fn::Sub': string };
    assert.ok(
      ssm['Fn::Sub'].endsWith(`:parameter${presignEnvironment().WECHATPAY_PUBLIC_KEY}`),
      ssm['Fn::Sub'],
    );
    assert.deepEqual(presignEnvironment().REQUEST_HASH_KEY, { Ref: 'RequestHashKeySecret' });
    assert.deepEqual(bySid.get('ReadRequestHashKey')?.Resource, presignEnvironment().REQUEST_HASH_KEY);
    assert.equal(bySid.get('ReadApiV3Key'), undefined, 'the request hash has its own key');
    assert.equal(presignEnvironment().REQUEST_HASH_KEY_PREVIOUS, '', 'no rotation under way by default');
    const secret = resource('RequestHashKeySecret').Properties;
    assert.deepEqual(secret.GenerateSecretString, { PasswordLength: 64, ExcludePunctuation: true });
  });

  it('certificates: scheduled every 6 hours on its own role, which writes only the reserved item', () => {
    const fn = resource('CertificatesLambdaFunction');
    assert.deepEqual(fn.Properties.Role, { 'Fn::GetAtt': ['CertificatesRole', 'Arn'] });
    const [, rule] =
      ofType('AWS::Events::Rule').find(([, r]) =>
        JSON.stringify(r.Properties.Targets).includes('CertificatesLambdaFunction'),
      ) ?? [];
    assert.equal(rule?.Properties.ScheduleExpression, 'rate(6 hours)');
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    assert.equal(env.WECHATPAY_PLATFORM_CERTIFICATES, 'disabled');

    // Outside certificate mode the function only logs that it is idle: its role can do no more.
    const own = iamStatements().filter((s) => s.owner === 'CertificatesRole');
    const bySid = new Map(own.map(({ statement }) => [statement.Sid, statement]));
    assert.deepEqual([...bySid.keys()].sort(), ['ReportFailedRun', 'Trace', 'WriteOwnLogs']);
    assert.deepEqual(bySid.get('WriteOwnLogs')?.Resource, { 'Fn::GetAtt': ['CertificatesLogGroup', 'Arn'] });
  });

  it('certificate mode adds the certificates grants under PlatformCertificatesEnabled only', () => {
    const policy = resource('CertificateModePolicy');
    assert.equal(policy.Condition, 'PlatformCertificatesEnabled');
    assert.deepEqual(policy.Properties.Roles, [{ Ref: 'CertificatesRole' }]);
    const own = iamStatements().filter((s) => s.owner === 'CertificateModePolicy');
    const bySid = new Map(own.map(({ statement }) => [statement.Sid, statement]));
    assert.deepEqual([...bySid.keys()].sort(), [
      'ReadApiV3Key',
      'ReadWechatPayPublicKey',
      'StorePlatformCertificates',
    ]);
    const store = bySid.get('StorePlatformCertificates') as Statement & { Condition?: unknown };
    assert.deepEqual(actions(store), ['dynamodb:PutItem']);
    assert.deepEqual(store.Resource, { 'Fn::GetAtt': ['NotificationsTable', 'Arn'] });
    assert.deepEqual(store.Condition, {
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [PLATFORM_CERTIFICATES_ID] },
    });
  });

  it('certificate-mode grants exist only under PlatformCertificatesEnabled, off unless the parameter says so', () => {
    assert.deepEqual(template.Conditions.PlatformCertificatesEnabled, {
      'Fn::Equals': ['disabled', 'enabled'],
    });
    const read = resource('ReadPlatformCertificatesPolicy');
    assert.equal(read.Condition, 'PlatformCertificatesEnabled');
    assert.deepEqual(read.Properties.Roles, [
      { Ref: 'PresignRole' },
      { Ref: 'ContractsRole' },
      { Ref: 'ReconcileRole' },
    ]);
    const [statement] = (read.Properties.PolicyDocument as PolicyDocument).Statement as (Statement & {
      Condition?: unknown;
    })[];
    assert.deepEqual(actions(statement as Statement), ['dynamodb:GetItem']);
    assert.deepEqual(statement?.Condition, {
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [PLATFORM_CERTIFICATES_ID] },
    });
  });

  it('reads a next WeChat Pay public key from its own parameter only during a key switch', () => {
    assert.deepEqual(template.Conditions.PublicKeySwitch, { 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    const env = presignEnvironment();
    assert.equal(env.WECHATPAY_PUBLIC_KEY_NEXT_ID, '');
    const next = '/wechatpay-credit-repayment/citest/wechatpay-public-key-next';
    assert.deepEqual(env.WECHATPAY_PUBLIC_KEY_NEXT, { 'Fn::If': ['PublicKeySwitch', next, ''] });
    const policy = resource('ReadNextWechatPayPublicKeyPolicy');
    assert.equal(policy.Condition, 'PublicKeySwitch');
    assert.deepEqual(policy.Properties.Roles, [
      { Ref: 'PresignRole' },
      { Ref: 'NotifyRole' },
      { Ref: 'ContractsRole' },
      { Ref: 'ReconcileRole' },
      { Ref: 'CertificatesRole' },
    ]);
    const [statement] = (policy.Properties.PolicyDocument as PolicyDocument).Statement;
    assert.ok(statement);
    assert.deepEqual(actions(statement), ['ssm:GetParameter']);
    const arn = (statement.Resource as { 'Fn::Sub': string })['Fn::Sub'];
    assert.ok(arn.endsWith(`:parameter${next}`), arn);
  });

  it('reads secrets and parameters through the extension layer for the region, arm64 like the functions; publish and outbox read none', async () => {
    const published = readYaml(
      fileURLToPath(new URL('../../../infra/aws/parameters-secrets-extension.yml', import.meta.url)),
    ) as Record<string, string>;
    // The packaged stage's region (serverless.yml's default), in AWS's published ARN form.
    const expected = published['ap-southeast-1'];
    assert.match(
      expected ?? '',
      /^arn:aws:lambda:ap-southeast-1:\d{12}:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:\d+$/,
    );
    for (const [region, arn] of Object.entries(published)) {
      assert.match(
        arn,
        new RegExp(
          `^arn:aws[-a-z]*:lambda:${region}:\\d{12}:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:\\d+$`,
        ),
      );
    }
    const functions = new Map(ofType('AWS::Lambda::Function'));
    for (const id of [
      'Presign',
      'Notify',
      'Notifications',
      'Contracts',
      'Reconcile',
      'Certificates',
      'Repayments',
    ]) {
      const fn = functions.get(`${id}LambdaFunction`);
      assert.deepEqual(fn?.Properties.Layers, [expected], id);
      assert.deepEqual(fn?.Properties.Architectures, ['arm64'], id);
    }
    assert.equal(
      functions.get('PublishLambdaFunction')?.Properties.Layers,
      undefined,
      'publish reads no key',
    );
    const other = (
      await packaged<Template>({
        parametersSecretsExtensionLayerArn:
          'arn:aws:lambda:ap-southeast-1:044395824272:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:90',
      })
    ).template;
    assert.deepEqual(other.Resources.PresignLambdaFunction?.Properties.Layers, [
      'arn:aws:lambda:ap-southeast-1:044395824272:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:90',
    ]);
  });

  it('holds the extension’s caches to the functions’ own cache age, so the two never stack past twice it', () => {
    const env = presignEnvironment();
    assert.equal(env.KEY_MATERIAL_MAX_AGE_S, '300');
    assert.equal(env.SECRETS_MANAGER_TTL, env.KEY_MATERIAL_MAX_AGE_S);
    assert.equal(env.SSM_PARAMETER_STORE_TTL, env.KEY_MATERIAL_MAX_AGE_S);
    assert.equal(
      env.POWERTOOLS_PARAMETERS_MAX_AGE,
      undefined,
      'the former name is not set beside the new one',
    );
  });

  it('ships a presign bundle under 2 MB', async () => {
    const s3Key = (presignFunction().Properties.Code as { S3Key: string }).S3Key;
    const zip = join(outDir, basename(s3Key));
    const { size } = await stat(zip);
    assert.ok(size < 2 * 1024 * 1024, `${zip} is ${size} bytes`);
  });
});
