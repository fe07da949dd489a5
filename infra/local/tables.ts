import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CORE_SCHEMA, defineMappingTag, defineScalarTag, defineSequenceTag, load } from 'js-yaml';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are free-form per resource type.
type FreeForm = any;
export type CloudFormationResource = { Type: string; Properties: FreeForm };

const ACTIVE_TIMEOUT_MS = 30_000;

const INTRINSICS: Record<string, string> = {
  Ref: 'Ref',
  Condition: 'Condition',
  ...Object.fromEntries(
    [
      'GetAtt',
      'Sub',
      'Join',
      'If',
      'Equals',
      'Not',
      'And',
      'Or',
      'Select',
      'Split',
      'ImportValue',
      'FindInMap',
    ]
      .concat(['Base64', 'GetAZs', 'Cidr', 'Length', 'ToJsonString'])
      .map((name) => [name, `Fn::${name}`]),
  ),
};

/** `!GetAtt A.B.C` is shorthand for `[A, B.C]`: only the first dot separates the resource. */
function scalarIntrinsic(key: string, source: string): unknown {
  if (key !== 'Fn::GetAtt') return source;
  const dot = source.indexOf('.');
  return dot < 0 ? [source] : [source.slice(0, dot), source.slice(dot + 1)];
}

/** CloudFormation short tags (`!Ref X`) become their long form (`{Ref: X}`), as CloudFormation reads them. */
const CLOUDFORMATION_SCHEMA = CORE_SCHEMA.withTags(
  Object.entries(INTRINSICS).flatMap(([short, key]) => [
    defineScalarTag(`!${short}`, {
      resolve: (source) => ({ [key]: scalarIntrinsic(key, source) }),
      identify: () => false,
    }),
    defineSequenceTag<unknown[], object>(`!${short}`, {
      create: () => [],
      addItem: (items, item) => {
        items.push(item);
      },
      finalize: (items) => ({ [key]: items }),
      identify: () => false,
    }),
    defineMappingTag<Record<string, unknown>, Record<string, Record<string, unknown>>>(`!${short}`, {
      create: () => ({}),
      addPair: (map, k, v) => {
        map[String(k)] = v;
        return '';
      },
      has: (map, k) => Object.hasOwn(map, String(k)),
      keys: (result) => Object.keys(result[key] ?? {}),
      get: (result, k) => result[key]?.[String(k)],
      finalize: (map) => ({ [key]: map }),
      identify: () => false,
    }),
  ]),
);

/**
 * The `Resources` of a serverless `resources:` include file or CloudFormation YAML (top-level `Resources:`,
 * or `resources.Resources` of a serverless.yml), or of a packaged template when the path ends in `.json`.
 */
export function readCloudFormationResources(yamlPath: string): Record<string, CloudFormationResource> {
  const text = readFileSync(yamlPath, 'utf8');
  const doc = (
    yamlPath.endsWith('.json') ? JSON.parse(text) : load(text, { schema: CLOUDFORMATION_SCHEMA })
  ) as {
    Resources?: unknown;
    resources?: { Resources?: unknown };
  } | null;
  const resources = doc?.Resources ?? doc?.resources?.Resources;
  if (typeof resources !== 'object' || resources === null) {
    throw new Error(
      `${yamlPath} has no Resources (expected a top-level Resources: key or resources.Resources)`,
    );
  }
  for (const [id, resource] of Object.entries(resources)) {
    if (typeof (resource as Partial<CloudFormationResource>)?.Type !== 'string') {
      throw new Error(`resource ${id} in ${yamlPath} has no Type`);
    }
  }
  return resources as Record<string, CloudFormationResource>;
}

/** Intrinsics need a stack to resolve; locally we have none, so say which property needs a plain value. */
function assertLiteral(value: unknown, where: string): void {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) assertLiteral(item, `${where}[${i}]`);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'Ref' || key.startsWith('Fn::')) {
      throw new Error(`${where} uses ${key}, which cannot be resolved locally; give it a literal value`);
    }
    assertLiteral(inner, `${where}.${key}`);
  }
}

/**
 * What CreateTable accepts. PointInTimeRecoverySpecification, DeletionProtectionEnabled, SSESpecification,
 * Tags, ContributorInsights and the like are deployment concerns the API (and DynamoDB Local) does not take;
 * TimeToLiveSpecification is a separate call.
 */
function createTableInput(id: string, tableName: string, p: FreeForm): CreateTableCommandInput {
  const index = (i: FreeForm) => ({
    IndexName: i.IndexName,
    KeySchema: i.KeySchema,
    Projection: i.Projection,
    ...(i.ProvisionedThroughput ? { ProvisionedThroughput: i.ProvisionedThroughput } : {}),
  });
  const input = {
    TableName: tableName,
    AttributeDefinitions: p.AttributeDefinitions,
    KeySchema: p.KeySchema,
    ...(p.BillingMode ? { BillingMode: p.BillingMode } : {}),
    ...(p.ProvisionedThroughput ? { ProvisionedThroughput: p.ProvisionedThroughput } : {}),
    ...(p.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: p.GlobalSecondaryIndexes.map(index) } : {}),
    ...(p.LocalSecondaryIndexes ? { LocalSecondaryIndexes: p.LocalSecondaryIndexes.map(index) } : {}),
    ...(p.StreamSpecification
      ? { StreamSpecification: { StreamEnabled: true, StreamViewType: p.StreamSpecification.StreamViewType } }
      : {}),
  };
  assertLiteral(input, `${id}.Properties`);
  return input;
}

async function waitActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexes = Table?.GlobalSecondaryIndexes ?? [];
    if (Table?.TableStatus === 'ACTIVE' && indexes.every((i) => i.IndexStatus === 'ACTIVE')) return;
    if (Date.now() > deadline) {
      throw new Error(
        `table ${tableName} is still ${Table?.TableStatus} after ${ACTIVE_TIMEOUT_MS / 1000} s`,
      );
    }
    await sleep(100);
  }
}

/**
 * Creates every AWS::DynamoDB::Table of `resources` (physical names from `names` by logical id, else a literal
 * TableName), enables TTL where specified and waits until ACTIVE. A table that already exists is left as is.
 * Returns the physical names of all tables, in template order.
 */
export async function createTables(
  client: DynamoDBClient,
  resources: Record<string, CloudFormationResource>,
  names: Record<string, string>,
): Promise<string[]> {
  const tables: string[] = [];
  for (const [id, { Type, Properties: p = {} }] of Object.entries(resources)) {
    if (Type !== 'AWS::DynamoDB::Table') continue;
    const tableName = names[id] ?? (typeof p.TableName === 'string' ? p.TableName : undefined);
    if (!tableName)
      throw new Error(`no physical name for table ${id}: pass names.${id} (its TableName is not literal)`);
    const input = createTableInput(id, tableName, p);
    const ttl = p.TimeToLiveSpecification;
    assertLiteral(ttl, `${id}.Properties.TimeToLiveSpecification`);
    tables.push(tableName);
    try {
      await client.send(new CreateTableCommand(input));
    } catch (error) {
      if (error instanceof ResourceInUseException) continue;
      throw error;
    }
    await waitActive(client, tableName);
    if (ttl?.Enabled) {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
        }),
      );
    }
  }
  return tables;
}

/** Any YAML file that may use CloudFormation short tags (serverless.yml does). */
export function readYaml(path: string): unknown {
  return load(readFileSync(path, 'utf8'), { schema: CLOUDFORMATION_SCHEMA });
}
