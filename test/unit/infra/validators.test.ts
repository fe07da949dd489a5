import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Validation, validatePackaged } from '../../../infra/validate/all';
import { asl } from '../../../infra/validate/asl';
import { cfnGuard } from '../../../infra/validate/cfn-guard';
import { cfnLint } from '../../../infra/validate/cfn-lint';
import { judge, readSuppressions } from '../../../infra/validate/findings';
import { packaged, type Template } from '../../support/infra/package';

// AWS's own validators on the packaged template (infra/validate): cfn-lint's rules, cfn-guard with the Control
// Tower rules, cdk-nag and asl-validator. Every finding is fixed or listed with a reason in
// infra/validation-suppressions.yml; the second half proves each validator still finds what it should.

let dir: string;
let template: Template;
let result: Validation;
let scratch: string;

describe('template validators', () => {
  before(
    async () => {
      ({ dir, template } = await packaged<Template>());
      result = await validatePackaged(dir, 'ap-southeast-1');
      scratch = await mkdtemp(join(tmpdir(), 'validators-'));
      console.log(`validators: ${JSON.stringify(result.ms)} ms`);
    },
    { timeout: 300_000 },
  );
  after(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('leaves no finding outside the suppressions file, and no entry there that matches nothing', () => {
    const show = result.unsuppressed.map((f) => `${f.tool} ${f.rule} ${f.resource}: ${f.message}`);
    assert.deepEqual(show, []);
    assert.deepEqual(
      result.unused.map((s) => `${s.tool} ${s.rule}`),
      [],
    );
  });

  it('passes cfn-lint with no error at all', () => {
    assert.deepEqual(
      result.findings.filter((f) => f.tool === 'cfn-lint' && /^(ERROR|FATAL)/.test(f.message)),
      [],
    );
  });

  it('ran every validator', () => {
    for (const tool of ['cfn-lint', 'cfn-guard', 'cdk-nag'] as const) {
      assert.ok(
        result.findings.some((f) => f.tool === tool),
        `${tool} reported nothing, not even a suppressed finding`,
      );
    }
    assert.ok(Object.values(template.Resources).some((r) => r.Type === 'AWS::StepFunctions::StateMachine'));
  });

  it('fails a finding that is not listed', () => {
    const { unsuppressed } = judge(
      [{ tool: 'cfn-guard', rule: 'sqs_dlq_check', resource: 'SomeNewQueue', message: 'CT.SQS.PR.1' }],
      readSuppressions(join(import.meta.dirname, '../../../infra/validation-suppressions.yml')),
    );
    assert.equal(unsuppressed.length, 1);
  });

  it('cfn-lint refuses an unknown property and a bad reference', () => {
    const broken = structuredClone(template);
    (broken.Resources.ContractsTable as { Properties: Record<string, unknown> }).Properties.NoSuchProperty =
      1;
    (broken.Resources.AlertsTopic as { Properties: Record<string, unknown> }).Properties.KmsMasterKeyId = {
      Ref: 'NoSuchKey',
    };
    const rules = cfnLint(JSON.stringify(broken), 'ap-southeast-1')
      .filter((f) => /^(ERROR|FATAL)/.test(f.message))
      .map((f) => `${f.rule} ${f.resource}`)
      .sort();
    assert.deepEqual(rules, ['F1020 AlertsTopic', 'F3002 ContractsTable']);
  });

  it('cfn-guard finds an alarm without actions and a log group kept for a week', async () => {
    const broken = structuredClone(template);
    delete (broken.Resources.Api5xxAlarm as { Properties: Record<string, unknown> }).Properties.AlarmActions;
    (broken.Resources.PresignLogGroup as { Properties: Record<string, unknown> }).Properties.RetentionInDays =
      7;
    const path = join(scratch, 'guard.json');
    await writeFile(path, JSON.stringify(broken));
    const found = (await cfnGuard(path)).map((f) => `${f.rule} ${f.resource}`);
    assert.ok(found.includes('cloudwatch_alarm_action_check Api5xxAlarm'), found.join(', '));
    assert.ok(
      found.includes('cloudwatch_log_group_retention_period_check PresignLogGroup'),
      found.join(', '),
    );
  });

  it('asl-validator finds a transition to a state that does not exist', () => {
    const broken = structuredClone(template);
    const machine = broken.Resources.PresignStateMachine as unknown as {
      Properties: { Definition: { States: Record<string, Record<string, unknown>> } };
    };
    const presign = machine.Properties.Definition.States.Presign as Record<string, unknown>;
    delete presign.End;
    presign.Next = 'Nowhere';
    assert.deepEqual(
      asl(broken).map((f) => f.rule),
      ['MISSING_TRANSITION_TARGET'],
    );
  });
});
