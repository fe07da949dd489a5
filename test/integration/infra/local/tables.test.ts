import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTables, readCloudFormationResources, readYaml } from '../../../../infra/local/tables';

const fixtures = join(import.meta.dirname, 'fixtures');
// Nothing listens on port 1: any request that slips past validation fails loudly instead of passing.
const unreachable = new DynamoDBClient({
  endpoint: 'http://127.0.0.1:1',
  region: 'local',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  maxAttempts: 1,
});

const scratch = mkdtempSync(join(tmpdir(), 'tables-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let scratchFiles = 0;

function tempYaml(text: string): string {
  const path = join(scratch, `tables-${++scratchFiles}.yml`);
  writeFileSync(path, text);
  return path;
}

describe('readCloudFormationResources', () => {
  const resources = readCloudFormationResources(join(fixtures, 'tables.yml'));

  it('returns every resource with its Type', () => {
    assert.deepEqual(
      Object.entries(resources).map(([id, r]) => [id, r.Type]),
      [
        ['ContractsTable', 'AWS::DynamoDB::Table'],
        ['SigningKey', 'AWS::KMS::Key'],
        ['Zones', 'Custom::Zones'],
      ],
    );
  });

  it('turns scalar short tags into their long form', () => {
    const table = resources.ContractsTable?.Properties;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a JS template.
    assert.deepEqual(table.TableName, { 'Fn::Sub': '${AWS::StackName}-contracts' });
    assert.deepEqual(table.SSESpecification.KMSMasterKeyId, { 'Fn::GetAtt': ['SigningKey', 'Arn'] });
    assert.deepEqual(table.Tags, [{ Key: 'stage', Value: { Ref: 'Stage' } }]);
    assert.deepEqual(resources.SigningKey?.Properties.KeyPolicy.Statement[0].Principal, {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a JS template.
      AWS: { 'Fn::Sub': 'arn:aws:iam::${AWS::AccountId}:root' },
    });
    assert.deepEqual(resources.Zones?.Properties.DottedAttribute, {
      'Fn::GetAtt': ['Cluster', 'Endpoint.Address'],
    });
  });

  it('turns sequence and nested short tags into their long form', () => {
    const zones = resources.Zones?.Properties;
    assert.deepEqual(resources.ContractsTable?.Properties.DeletionProtectionEnabled, {
      'Fn::If': ['IsProd', true, false],
    });
    assert.deepEqual(resources.SigningKey?.Properties.Description, {
      'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, 'signing']],
    });
    assert.deepEqual(zones.First, { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] });
    assert.deepEqual(zones.Parts, { 'Fn::Split': [',', { 'Fn::ImportValue': 'shared-zones' }] });
    assert.deepEqual(zones.Region, { 'Fn::FindInMap': ['Regions', { Ref: 'AWS::Region' }, 'Name'] });
    assert.deepEqual(zones.NotProd, {
      'Fn::And': [{ Condition: 'HasKey' }, { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] }] }],
    });
    assert.deepEqual(zones.Nested, { 'Fn::GetAtt': ['ContractsTable', 'StreamArn'] });
  });

  it('turns mapping short tags into their long form', () => {
    assert.deepEqual(resources.Zones?.Properties.Script, {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a JS template.
      'Fn::Base64': { 'Fn::Sub': 'echo ${AWS::Region}' },
    });
  });

  it('reads a packaged JSON template', () => {
    const packaged = readCloudFormationResources(join(fixtures, 'cloudformation-template-update-stack.json'));
    assert.deepEqual(Object.keys(packaged), ['ServerlessDeploymentBucket', 'NoncesTable']);
    assert.equal(packaged.NoncesTable?.Properties.TableName, 'svc-dev-nonces');
  });

  it('reads resources.Resources of a serverless.yml', () => {
    const path = tempYaml('service: x\nresources:\n  Resources:\n    T:\n      Type: AWS::SNS::Topic\n');
    assert.deepEqual(readCloudFormationResources(path), { T: { Type: 'AWS::SNS::Topic' } });
  });

  it('says what is missing when there are no Resources or a resource has no Type', () => {
    const empty = tempYaml('service: x\n');
    assert.throws(
      () => readCloudFormationResources(empty),
      /has no Resources \(expected a top-level Resources:/,
    );
    const typeless = tempYaml('Resources:\n  T:\n    Properties: {}\n');
    assert.throws(() => readCloudFormationResources(typeless), /resource T in .* has no Type/);
  });
});

describe('readYaml', () => {
  it('reads any YAML document with CloudFormation short tags', () => {
    const path = tempYaml('provider:\n  environment:\n    TABLE: !Ref ContractsTable\n');
    assert.deepEqual(readYaml(path), { provider: { environment: { TABLE: { Ref: 'ContractsTable' } } } });
  });
});

describe('createTables validation (before any request)', () => {
  const resources = readCloudFormationResources(join(fixtures, 'tables.yml'));

  it('needs a physical name when TableName is not literal', async () => {
    await assert.rejects(createTables(unreachable, resources, {}), {
      message:
        'no physical name for table ContractsTable: pass names.ContractsTable (its TableName is not literal)',
    });
  });

  it('names the property whose intrinsic cannot be resolved locally', async () => {
    const table = structuredClone(resources.ContractsTable);
    assert.ok(table);
    table.Properties.BillingMode = { 'Fn::If': ['IsProd', 'PROVISIONED', 'PAY_PER_REQUEST'] };
    await assert.rejects(createTables(unreachable, { T: table }, { T: 'x' }), {
      message:
        'T.Properties.BillingMode uses Fn::If, which cannot be resolved locally; give it a literal value',
    });
  });

  it('skips resources that are not tables', async () => {
    const { SigningKey, Zones } = resources;
    assert.ok(SigningKey && Zones);
    assert.deepEqual(await createTables(unreachable, { SigningKey, Zones }, {}), []);
  });
});
