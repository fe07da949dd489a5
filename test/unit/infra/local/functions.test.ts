import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadFunctions } from '../../../../infra/local/functions';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

describe('the functions of serverless.yml, as the local stack runs them', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const project = (yml: string, files: Record<string, string> = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'functions-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'serverless.yml'), yml);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };

  it('reads every function, its timeout, routes and schedules from the real serverless.yml', () => {
    const functions = loadFunctions(ROOT);
    assert.equal(functions.service, 'wechatpay-credit-repayment');
    const byKey = new Map(functions.list.map((fn) => [fn.key, fn]));
    for (const key of ['presign', 'notify', 'contracts', 'reconcile', 'publish', 'certificates']) {
      assert.ok(byKey.has(key), key);
    }
    assert.equal(byKey.get('presign')?.handler, 'functions/presign.handler');
    assert.equal(byKey.get('presign')?.timeoutMs, 29_000);
    assert.equal(byKey.get('notify')?.timeoutMs, 5_000);
    assert.deepEqual(byKey.get('presign')?.routes, [
      { method: 'POST', path: '/contracts/h5-presign' },
      { method: 'POST', path: '/contracts/app-presign' },
    ]);
    const [reconcile] = byKey.get('reconcile')?.schedules ?? [];
    assert.equal(reconcile?.expression.text, 'rate(5 minutes)');
    assert.equal(reconcile?.enabled, true);
    assert.deepEqual(reconcile?.input, { limit: 200 });
    const [certificates] = byKey.get('certificates')?.schedules ?? [];
    assert.equal(certificates?.expression.text, 'rate(6 hours)');
    assert.equal('input' in (certificates ?? {}), false, 'no input: EventBridge sends its scheduled event');
    assert.deepEqual(byKey.get('publish')?.schedules, []);
  });

  it('finds a function by its key or by its deployed name on any stage', () => {
    const functions = loadFunctions(ROOT);
    assert.equal(functions.find('presign')?.key, 'presign');
    assert.equal(functions.find('wechatpay-credit-repayment-dev-presign')?.key, 'presign');
    assert.equal(functions.find('wechatpay-credit-repayment-prod-eu-reconcile')?.key, 'reconcile');
    for (const unknown of [
      'nope',
      'wechatpay-credit-repayment-presign',
      'other-service-dev-presign',
      'Presign',
    ]) {
      assert.equal(functions.find(unknown), undefined, unknown);
    }
  });

  it('takes the provider timeout, then serverless.yml default of 6 s, and every schedule form', () => {
    const dir = project(
      [
        'service: svc',
        'provider: { name: aws, timeout: 12 }',
        'functions:',
        '  a: { handler: a.handler, events: [{ schedule: "rate(1 hour)" }] }',
        '  b:',
        '    handler: b.handler',
        '    events:',
        '      - schedule: { rate: ["cron(0 1 * * ? *)", "rate(2 days)"], enabled: false, timezone: Asia/Shanghai }',
      ].join('\n'),
    );
    const [a, b] = loadFunctions(dir).list;
    assert.equal(a?.timeoutMs, 12_000);
    assert.equal(a?.schedules[0]?.expression.text, 'rate(1 hour)');
    assert.deepEqual(
      b?.schedules.map((s) => [s.expression.text, s.enabled, s.timeZone]),
      [
        ['cron(0 1 * * ? *)', false, 'Asia/Shanghai'],
        ['rate(2 days)', false, 'Asia/Shanghai'],
      ],
    );
    const bare = project('service: svc\nfunctions:\n  c: { handler: c.handler }\n');
    assert.equal(loadFunctions(bare).list[0]?.timeoutMs, 6_000);
  });

  it('refuses, at load, a schedule it would not run as EventBridge does', () => {
    const inputPath = project(
      'service: svc\nfunctions:\n  a: { handler: a.handler, events: [{ schedule: { rate: "rate(1 hour)", inputPath: "$.detail" } }] }\n',
    );
    assert.throws(() => loadFunctions(inputPath), {
      message: 'serverless.yml functions.a: schedule.inputPath is not run by the local stack',
    });
    const badRate = project(
      'service: svc\nfunctions:\n  a: { handler: a.handler, events: [{ schedule: "rate(1 hours)" }] }\n',
    );
    assert.throws(() => loadFunctions(badRate), /rate\(1 hours\): use "hour" for a value of 1/);
  });

  it('invokes the handler with a Lambda context whose budget is the function timeout', async () => {
    const dir = project('service: svc\nfunctions:\n  echo: { handler: echo.handler, timeout: 3 }\n', {
      'echo.ts':
        'export const handlerFor = () => async (event: unknown, context: { functionName: string; awsRequestId: string; ' +
        'getRemainingTimeInMillis(): number }) => ({ event, name: context.functionName, id: context.awsRequestId, ' +
        'left: context.getRemainingTimeInMillis() });\n',
    });
    const functions = loadFunctions(dir);
    const echo = functions.find('echo');
    assert.ok(echo);
    const result = (await functions.invoke(echo, { a: 1 }, 'req-1')) as Record<string, unknown>;
    assert.deepEqual(result.event, { a: 1 });
    assert.equal(result.name, 'echo');
    assert.equal(result.id, 'req-1');
    assert.ok(Number(result.left) > 2_000 && Number(result.left) <= 3_000, String(result.left));
    const missing = project('service: svc\nfunctions:\n  m: { handler: echo.nothere }\n', {
      'echo.ts': 'export const handlerFor = () => async () => 1;\n',
    });
    const m = loadFunctions(missing);
    await assert.rejects(m.invoke(m.list[0] as never, {}), /does not export nothereFor/);
  });
});
