import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { PACKAGE_PARAMS, packaged, type Statement, type Template } from '../../support/infra/package';

// The merchant key's policy (infra/aws/kms.yml): only the signing roles sign, the key admin administers without
// use, only the break-glass principal (or this stack's own deploys) can delete, disable or re-police it, and any
// such call is alarmed. The alias survives a switch to a key created outside the stack.

const EXISTING_KEY = 'arn:aws:kms:ap-southeast-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const DESTRUCTIVE = ['kms:ScheduleKeyDeletion', 'kms:PutKeyPolicy', 'kms:DisableKey'];

let template: Template;
let existingKey: Template;

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
const actionsOf = (s: Statement) => list(s.Action) as string[];

function keyPolicy(): Statement[] {
  const key = template.Resources.SigningKey;
  assert.ok(key, 'SigningKey missing');
  return (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement;
}

function statement(sid: string): Statement {
  const found = keyPolicy().find((s) => s.Sid === sid);
  assert.ok(found, `key policy statement ${sid} missing`);
  return found;
}

/** The principals of an Allow statement: AWS ARNs, or the literal '*'. */
function principals(s: Statement): unknown[] {
  if (s.Principal === '*') return ['*'];
  return list((s.Principal as { AWS?: unknown }).AWS);
}

describe('signing key', () => {
  before(
    async () => {
      [template, existingKey] = await Promise.all([
        packaged<Template>().then((p) => p.template),
        packaged<Template>({ existingSigningKeyArn: EXISTING_KEY }).then((p) => p.template),
      ]);
    },
    { timeout: 300_000 },
  );

  it('is an RSA_2048 signing key, kept unless the deploy that created it fails', () => {
    const key = template.Resources.SigningKey;
    assert.equal(key?.Condition, 'CreateSigningKey');
    assert.equal(key?.Properties.KeySpec, 'RSA_2048');
    assert.equal(key?.Properties.KeyUsage, 'SIGN_VERIFY');
    assert.equal(key?.DeletionPolicy, 'RetainExceptOnCreate');
    assert.equal(key?.UpdateReplacePolicy, 'Retain');
  });

  it('lets the signing roles sign, with WeChat Pay’s algorithm only, and notify and certificates only in certificate mode', () => {
    const sign = statement('SignersSign');
    assert.equal(sign.Effect, 'Allow');
    assert.deepEqual(actionsOf(sign), ['kms:Sign']);
    assert.deepEqual(sign.Condition, {
      StringEquals: { 'kms:SigningAlgorithm': 'RSASSA_PKCS1_V1_5_SHA_256' },
    });
    assert.deepEqual(principals(sign), [
      { 'Fn::GetAtt': ['PresignRole', 'Arn'] },
      { 'Fn::GetAtt': ['ContractsRole', 'Arn'] },
      { 'Fn::GetAtt': ['ReconcileRole', 'Arn'] },
      { 'Fn::GetAtt': ['RepaymentsRole', 'Arn'] },
      { 'Fn::GetAtt': ['RepaymentDayWorkerRole', 'Arn'] },
      {
        'Fn::If': [
          'PlatformCertificatesEnabled',
          { 'Fn::GetAtt': ['CertificatesRole', 'Arn'] },
          { Ref: 'AWS::NoValue' },
        ],
      },
      {
        'Fn::If': [
          'PlatformCertificatesEnabled',
          { 'Fn::GetAtt': ['NotifyRole', 'Arn'] },
          { Ref: 'AWS::NoValue' },
        ],
      },
    ]);
  });

  it('gives no statement kms:* or kms:Sign to the account root or to everyone', () => {
    for (const s of keyPolicy().filter((s) => s.Effect === 'Allow')) {
      const broad = actionsOf(s).filter((a) => a === 'kms:*' || a === '*' || a === 'kms:Sign');
      if (broad.length === 0) continue;
      for (const p of principals(s)) {
        assert.notEqual(p, '*', `${s.Sid} gives ${broad} to '*'`);
        assert.ok(!JSON.stringify(p).includes(':root'), `${s.Sid} gives ${broad} to the account root`);
      }
    }
    const signers = keyPolicy().filter((s) => s.Effect === 'Allow' && actionsOf(s).includes('kms:Sign'));
    assert.deepEqual(
      signers.map((s) => s.Sid),
      ['SignersSign'],
    );
  });

  it('lets the key admin administer but never use the key, nor destroy it', () => {
    const admin = statement('KeyAdminAdministers');
    assert.deepEqual(principals(admin), [PACKAGE_PARAMS.signingKeyAdminArn]);
    const granted = actionsOf(admin);
    for (const use of ['kms:Sign', 'kms:Verify', 'kms:*', 'kms:CreateGrant', ...DESTRUCTIVE]) {
      assert.ok(!granted.includes(use), `key admin may ${use}`);
    }
    assert.ok(granted.includes('kms:DescribeKey') && granted.includes('kms:TagResource'));
    assert.ok(
      granted.every((a) => /^kms:[A-Z][A-Za-z]+$/.test(a)),
      'no wildcard actions',
    );
  });

  it('denies ScheduleKeyDeletion, PutKeyPolicy and DisableKey to all but the break-glass principal and this stack', () => {
    const deny = statement('OnlyBreakGlassDestroys');
    assert.equal(deny.Effect, 'Deny');
    assert.equal(deny.Principal, '*');
    assert.deepEqual([...actionsOf(deny)].sort(), [...DESTRUCTIVE].sort());
    assert.deepEqual(deny.Condition, {
      ArnNotEquals: { 'aws:PrincipalArn': PACKAGE_PARAMS.signingKeyBreakGlassArn },
      StringNotEquals: { 'aws:CalledViaFirst': 'cloudformation.amazonaws.com' },
    });
    const glass = statement('BreakGlassRecovers');
    assert.deepEqual(principals(glass), [PACKAGE_PARAMS.signingKeyBreakGlassArn]);
    for (const a of DESTRUCTIVE) assert.ok(actionsOf(glass).includes(a), `break-glass cannot ${a}`);
    assert.ok(!actionsOf(glass).includes('kms:Sign'));
    // The stack's own statement works only through CloudFormation (reads after create, rollback of a failed create).
    const stack = statement('ThisStackManagesTheKey');
    assert.deepEqual(stack.Condition, {
      StringEquals: { 'aws:CalledViaFirst': 'cloudformation.amazonaws.com' },
    });
    assert.ok(!actionsOf(stack).some((a) => ['kms:Sign', 'kms:*', 'kms:DisableKey'].includes(a)));
  });

  it('alarms on any of those calls: an EventBridge rule on the CloudTrail record, to the alert topic and an alarm', () => {
    const rule = template.Resources.SigningKeyTamperRule;
    const pattern = rule?.Properties.EventPattern as { source: string[]; detail: Record<string, unknown> };
    assert.deepEqual(pattern.source, ['aws.kms']);
    assert.deepEqual(
      [...(pattern.detail.eventName as string[])].sort(),
      DESTRUCTIVE.map((a) => a.slice(4)).sort(),
    );
    assert.deepEqual(pattern.detail.resources, {
      ARN: [{ 'Fn::If': ['CreateSigningKey', { 'Fn::GetAtt': ['SigningKey', 'Arn'] }, ''] }],
    });
    assert.deepEqual(rule?.Properties.Targets, [{ Id: 'alert', Arn: { Ref: 'AlertsTopic' } }]);
    const alarm = template.Resources.SigningKeyTamperAlarm?.Properties;
    assert.equal(alarm?.MetricName, 'TriggeredRules');
    assert.deepEqual(alarm?.Dimensions, [{ Name: 'RuleName', Value: { Ref: 'SigningKeyTamperRule' } }]);
  });

  it('keeps the alias, pointed at the given key, when the stack uses a key created outside it', () => {
    const created = template.Resources.SigningKeyAlias;
    const switched = existingKey.Resources.SigningKeyAlias;
    assert.ok(created && switched, 'alias missing in one of the modes');
    assert.equal(created.Condition, undefined, 'the alias has no condition');
    assert.equal(switched.Properties.AliasName, created.Properties.AliasName);
    assert.deepEqual(switched.Properties.TargetKeyId, {
      'Fn::If': ['CreateSigningKey', { Ref: 'SigningKey' }, EXISTING_KEY],
    });
    assert.deepEqual(existingKey.Conditions.CreateSigningKey, { 'Fn::Equals': [EXISTING_KEY, ''] });
    const rule = existingKey.Resources.SigningKeyTamperRule?.Properties.EventPattern as {
      detail: { resources: { ARN: unknown[] } };
    };
    assert.deepEqual(rule.detail.resources.ARN, [
      { 'Fn::If': ['CreateSigningKey', { 'Fn::GetAtt': ['SigningKey', 'Arn'] }, EXISTING_KEY] },
    ]);
    const env = existingKey.Resources.PresignLambdaFunction?.Properties.Environment as {
      Variables: Record<string, unknown>;
    };
    assert.equal(env.Variables.WECHATPAY_SIGNING_KEY_ID, created.Properties.AliasName);
  });
});
