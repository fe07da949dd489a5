import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as errors from '../../../lib/errors';
import { packaged } from '../../support/infra/package';

// The presign state machine (infra/aws/presign-workflow.asl.json, deployed by infra/aws/workflow.yml): its
// Retry/Catch must name errors the presign function really throws (a misspelt name silently never matches),
// retry only what is safe to repeat, and run under a role that can invoke the presign function and nothing else.

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
}
interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string;
}
interface State {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  OutputPath?: string;
  Next?: string;
  End?: boolean;
  Retry?: Retrier[];
  Catch?: Catcher[];
  ErrorPath?: string;
  CausePath?: string;
}
interface Definition {
  Comment: string;
  StartAt: string;
  States: Record<string, State>;
}
interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: { Service?: string };
}

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const definitionPath = join(repoRoot, 'infra/aws/presign-workflow.asl.json');
const presignArn = { 'Fn::GetAtt': ['PresignLambdaFunction', 'Arn'] };

/** One instance of every error class lib/errors.ts exports, built the way the code builds them. */
const instances: errors.ServiceError[] = [
  new errors.ValidationFailed([{ field: '/appid', issue: 'is required' }]),
  new errors.ContractCodeUsed('C1', 'PRESIGNED'),
  new errors.PresignInProgress('C1'),
  new errors.ContractNotFound('C1'),
  new errors.ContractStateConflict('not SIGNED', 'PRESIGNED'),
  new errors.WechatPayRejected({ status: 403, code: 'NO_AUTH', message: 'no' }),
  new errors.WechatPayUnavailable('HTTP 503 SYSTEM_ERROR after 3 attempts'),
  new errors.WechatPayThrottled('HTTP 429 RATELIMIT_EXCEEDED after 3 attempts, none processed'),
  new errors.SignatureInvalid('response signature rejected'),
  new errors.DependencyUnavailable('KMS', 'Sign failed'),
  new errors.NotificationRejected('resource is not JSON'),
  new errors.PayloadTooLarge('body too large'),
  new errors.RepaymentIdUsed('R1', 'SCHEDULED'),
  new errors.BookingInProgress('R1'),
  new errors.RepaymentNotFound('R1'),
  new errors.RepaymentNotDue('R1', '2026-12-02', '2026-12-01'),
  new errors.RepaymentStateConflict('repaid', 'SUCCEEDED'),
  new errors.DeductionInProgress('R1', 'T1', 'DEDUCT_ORDER_STATE_PENDING'),
  new errors.TradeNoUsed('T1', 'by repayment R2'),
];

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's DefinitionSubstitutions syntax.
const PRESIGN_PLACEHOLDER = '${PresignFunctionArn}';

/** What a direct invocation of the presign function throws (test/integration/functions/presign-direct.test.ts). */
const PRESIGN_THROWS = [
  'ValidationFailed',
  'ContractCodeUsed',
  'PresignInProgress',
  'WechatPayRejected',
  'WechatPayUnavailable',
  'DependencyUnavailable',
];

const isPlatformError = (name: string) => name.startsWith('States.') || name.startsWith('Lambda.');

let definition: Definition;

function tasks(): [string, State][] {
  return Object.entries(definition.States).filter(([, s]) => s.Type === 'Task');
}

function named(kind: 'Retry' | 'Catch'): string[] {
  return tasks().flatMap(([, s]) => (s[kind] ?? []).flatMap((r) => r.ErrorEquals));
}

describe('presign state machine definition', () => {
  before(async () => {
    definition = JSON.parse(await readFile(definitionPath, 'utf8')) as Definition;
  });

  it('matches only names of errors lib/errors.ts really throws, and only ones presign can throw', () => {
    const exported = Object.values(errors).filter(
      (v) => typeof v === 'function' && v.prototype instanceof errors.ServiceError,
    ) as (abstract new (
      ...args: never[]
    ) => errors.ServiceError)[];
    for (const cls of exported) {
      assert.ok(
        instances.some((e) => e instanceof cls),
        `${cls.name} is exported by lib/errors.ts but not instantiated here`,
      );
    }
    const thrownNames = new Set(instances.map((e) => e.name));
    const ours = [...named('Retry'), ...named('Catch')].filter((n) => !isPlatformError(n));
    assert.ok(ours.length > 0);
    for (const name of ours) {
      assert.ok(
        thrownNames.has(name),
        `${name} is not the name of any error class (have ${[...thrownNames]})`,
      );
      assert.ok(PRESIGN_THROWS.includes(name), `${name} is never thrown by presign`);
    }
    for (const name of PRESIGN_THROWS)
      assert.ok(ours.includes(name), `${name} is neither retried nor caught`);
  });

  it('names each error by the PascalCase of its code, as the README promises callers', () => {
    for (const e of instances) {
      const pascal = e.code
        .split('_')
        .map((w) => (w === 'WECHATPAY' ? 'WechatPay' : w.charAt(0) + w.slice(1).toLowerCase()))
        .join('');
      assert.equal(e.name, pascal, e.code);
      assert.ok(e instanceof Error);
    }
  });

  it('retries only what is safe to repeat, with bounded backoff, and never WechatPayUnavailable', () => {
    const retried = named('Retry').filter((n) => !isPlatformError(n));
    assert.deepEqual(retried.sort(), ['DependencyUnavailable', 'PresignInProgress']);
    for (const final of [
      'WechatPayUnavailable',
      'ContractCodeUsed',
      'ValidationFailed',
      'WechatPayRejected',
    ]) {
      assert.ok(!named('Retry').includes(final), `${final} must not be retried`);
      assert.ok(named('Catch').includes(final), `${final} must be caught`);
    }
    for (const transient of ['Lambda.ServiceException', 'Lambda.TooManyRequestsException']) {
      assert.ok(named('Retry').includes(transient), `${transient} is not retried`);
    }
    for (const [, task] of tasks()) {
      for (const r of task.Retry ?? []) {
        assert.ok((r.MaxAttempts ?? 3) > 0 && (r.MaxAttempts ?? 3) <= 6, JSON.stringify(r));
        assert.ok((r.BackoffRate ?? 2) > 1, 'backs off');
        assert.ok(!r.ErrorEquals.includes('States.ALL'), 'no blanket retry');
      }
    }
    assert.match(definition.Comment, /WechatPayUnavailable/, 'the Comment explains the choice');
  });

  it('ends every caught error in a Fail state that carries the error and cause, and nothing else', () => {
    for (const [, task] of tasks()) {
      for (const c of task.Catch ?? []) {
        const target = definition.States[c.Next];
        assert.equal(target?.Type, 'Fail', `${c.ErrorEquals} -> ${c.Next}`);
        assert.equal(c.ResultPath, '$', 'the error replaces the input (the body holds the identity)');
        assert.equal(target?.ErrorPath, '$.Error');
        assert.equal(target?.CausePath, '$.Cause');
      }
    }
  });

  it('invokes the presign function with the execution input and returns its result', () => {
    const start = definition.States[definition.StartAt];
    assert.equal(start?.Type, 'Task');
    assert.equal(start?.Resource, 'arn:aws:states:::lambda:invoke');
    assert.deepEqual(start?.Parameters, { FunctionName: PRESIGN_PLACEHOLDER, 'Payload.$': '$' });
    assert.equal(start?.OutputPath, '$.Payload');
    assert.equal(start?.End, true);
    const reachable = new Set([definition.StartAt]);
    for (const [, s] of Object.entries(definition.States)) {
      for (const next of [s.Next, ...(s.Catch ?? []).map((c) => c.Next)]) {
        if (next === undefined) continue;
        assert.ok(definition.States[next], `unknown state ${next}`);
        reachable.add(next);
      }
    }
    assert.deepEqual([...reachable].sort(), Object.keys(definition.States).sort(), 'unreachable states');
  });
});

describe('packaged presign state machine', () => {
  let resources: Record<string, Resource>;

  before(
    async () => {
      resources = (await packaged<{ Resources: Record<string, Resource> }>()).template.Resources;
    },
    { timeout: 300_000 },
  );

  it('deploys the definition with the presign function ARN substituted in', async () => {
    const machines = Object.entries(resources).filter(
      ([, r]) => r.Type === 'AWS::StepFunctions::StateMachine',
    );
    assert.deepEqual(
      machines.map(([id]) => id),
      ['PresignStateMachine', 'RepaymentDayStateMachine'],
    );
    const p = resources.PresignStateMachine?.Properties ?? {};
    assert.deepEqual(p.Definition, JSON.parse(await readFile(definitionPath, 'utf8')));
    assert.equal(p.StateMachineName, 'wechatpay-credit-repayment-citest-presign');
    assert.equal(p.StateMachineType, 'EXPRESS', 'no execution history holding the plaintext identity');
    assert.deepEqual(
      p.LoggingConfiguration,
      {
        Level: 'ERROR',
        IncludeExecutionData: false,
        Destinations: [
          {
            CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': ['PresignStateMachineLogGroup', 'Arn'] } },
          },
        ],
      },
      'errors only, and no execution data (the input holds the identity) in logs either',
    );
    assert.deepEqual(p.TracingConfiguration, { Enabled: true });
    assert.ok(
      Number(resources.PresignStateMachineLogGroup?.Properties.RetentionInDays) >= 365,
      'workflow logs kept a year',
    );
    const substitutions = p.DefinitionSubstitutions as Record<string, unknown>;
    assert.deepEqual(substitutions, { PresignFunctionArn: presignArn });
    const placeholders = [...JSON.stringify(p.Definition).matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);
    for (const name of placeholders)
      assert.ok(name && name in substitutions, `\${${name}} is not substituted`);
    assert.deepEqual(p.RoleArn, { 'Fn::GetAtt': ['PresignStateMachineRole', 'Arn'] });
  });

  it('runs under a role Step Functions alone assumes, allowed to invoke the presign function only', () => {
    const role = resources.PresignStateMachineRole;
    assert.ok(role, 'PresignStateMachineRole missing');
    assert.equal(role.Type, 'AWS::IAM::Role');
    const trust = (role.Properties.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;
    assert.deepEqual(
      trust.map((s) => [s.Effect, s.Principal?.Service, s.Action]),
      [['Allow', 'states.amazonaws.com', 'sts:AssumeRole']],
    );
    const policies = role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[];
    const statements = policies.flatMap((p) => p.PolicyDocument.Statement);
    const invokes = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('lambda:')));
    assert.deepEqual(
      invokes.map((s) => [s.Effect, s.Action, s.Resource]),
      [['Allow', 'lambda:InvokeFunction', presignArn]],
    );
    // The rest is log delivery and tracing, which have no resource-level permissions.
    for (const s of statements.filter((s) => !invokes.includes(s))) {
      for (const action of [s.Action].flat()) assert.match(action, /^(logs|xray):/);
    }
    assert.equal(resources.PresignLambdaFunction?.Type, 'AWS::Lambda::Function');
  });
});
