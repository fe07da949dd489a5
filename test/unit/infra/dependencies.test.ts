import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { packaged, type Resource, type Template } from '../../support/infra/package';

// A first deploy that succeeds: CloudFormation orders creation only by references and DependsOn, so a resource
// that names another by its key or name (the stage's RouteSettings naming a route, an environment variable naming
// a table) must depend on it, directly or through a chain. And a failed first create leaves nothing behind.

let template: Template;

/** The keys and names each resource is known by elsewhere in the template. */
const NAME_PROPERTIES = [
  'RouteKey',
  'TableName',
  'QueueName',
  'AliasName',
  'TopicName',
  'Name',
  'StateMachineName',
];

function namesOf(resource: Resource): string[] {
  const names: string[] = [];
  for (const property of NAME_PROPERTIES) {
    const value = resource.Properties?.[property];
    if (typeof value === 'string' && value.length > 3) names.push(value);
  }
  return names;
}

/** Every string value and every object key under `value`. */
function strings(value: unknown, found: string[] = []): string[] {
  if (typeof value === 'string') found.push(value);
  else if (Array.isArray(value)) for (const item of value) strings(item, found);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      found.push(key);
      strings(inner, found);
    }
  }
  return found;
}

/** Logical ids `resource` refers to (Ref, Fn::GetAtt, ${…} in Fn::Sub) or lists in DependsOn. */
function directDependencies(resource: Resource, ids: Set<string>): Set<string> {
  const found = new Set<string>([resource.DependsOn ?? []].flat());
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'Ref' && typeof inner === 'string' && ids.has(inner)) found.add(inner);
        else if (key === 'Fn::GetAtt') found.add(String([inner].flat()[0]).split('.')[0] ?? '');
        else if (key === 'Fn::Sub') {
          const text = Array.isArray(inner) ? inner[0] : inner;
          for (const [, id] of String(text).matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}/g)) {
            if (id && ids.has(id)) found.add(id);
          }
          walk(inner);
        } else walk(inner);
      }
    }
  };
  walk(resource.Properties);
  return found;
}

function dependsTransitively(from: string, on: string, graph: Map<string, Set<string>>): boolean {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length > 0) {
    const id = queue.pop() as string;
    if (id === on) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    queue.push(...(graph.get(id) ?? []));
  }
  return false;
}

describe('deploy order and rollback', () => {
  before(
    async () => {
      ({ template } = await packaged<Template>());
    },
    { timeout: 300_000 },
  );

  it('makes every resource that names another by key or name depend on it', () => {
    const ids = new Set(Object.keys(template.Resources));
    const graph = new Map(
      [...ids].map((id) => [id, directDependencies(template.Resources[id] as Resource, ids)]),
    );
    const named = new Map<string, string>();
    for (const [id, resource] of Object.entries(template.Resources)) {
      for (const name of namesOf(resource)) named.set(name, id);
    }
    assert.ok(named.has('POST /wechatpay/notifications'), 'the callback route is found by its key');
    const violations: string[] = [];
    for (const [id, resource] of Object.entries(template.Resources)) {
      // A resource's own name is not a reference (the presign function and state machine share a name).
      const { FunctionName: _fn, LogGroupName: _lg, ...properties } = resource.Properties ?? {};
      const own = new Set(namesOf(resource));
      for (const text of strings(properties).filter((t) => !own.has(t))) {
        const target = named.get(text);
        if (!target || target === id) continue;
        if (!dependsTransitively(id, target, graph)) violations.push(`${id} names ${target} ("${text}")`);
      }
    }
    assert.deepEqual(violations, []);
  });

  it('creates the HTTP API stage after the callback route its RouteSettings names', () => {
    const stage = template.Resources.HttpApiStage;
    assert.ok(
      Object.keys(stage?.Properties.RouteSettings as object).includes('POST /wechatpay/notifications'),
    );
    assert.ok([stage?.DependsOn].flat().includes('HttpApiRoutePostWechatpayNotifications'));
  });

  it('leaves no table or key behind when the deploy that created them fails, and keeps them otherwise', () => {
    for (const id of ['ContractsTable', 'NotificationsTable', 'SigningKey']) {
      assert.equal(template.Resources[id]?.DeletionPolicy, 'RetainExceptOnCreate', id);
      assert.equal(template.Resources[id]?.UpdateReplacePolicy, 'Retain', id);
    }
  });

  it('lets the first deploy of a stage turn deletion protection off, so that its rollback can delete the tables', async () => {
    const first = (await packaged<Template>({ tableDeletionProtection: 'false' })).template;
    assert.deepEqual(first.Conditions.TableDeletionProtection, { 'Fn::Equals': ['false', 'true'] });
    assert.deepEqual(template.Conditions.TableDeletionProtection, { 'Fn::Equals': ['true', 'true'] });
  });
});
