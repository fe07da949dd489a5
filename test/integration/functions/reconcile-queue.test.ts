import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { type BackfillReport, makeHandler } from '../../../functions/reconcile';
import { lambdaContext } from '../../../infra/local/lambda-context';
import { DynamoContractStore } from '../../../lib/aws/dynamo-contract-store';
import { reconcileDeps } from '../../../lib/config/repayment-deps';
import { createRuntime } from '../../../lib/config/runtime';
import type { ContractRecord } from '../../../lib/contracts/model';
import type { ReconcileReport } from '../../../lib/contracts/reconcile';
import { contractPath } from '../../../lib/wechatpay/credit-repayment';
import { h5Body, PRESIGNED_BY_US, uniqueCode } from '../../support/contracts/fixtures';
import { startTestStack, type TestStack } from '../../support/local/stack';

// Reconcile's queue through functions/reconcile.ts against DynamoDB Local and the simulator, on a clock the
// test moves (the simulator signs and checks on the same clock, so WeChat Pay's answers still verify).

const MINUTE = 60_000;

describe('reconcile always makes progress', () => {
  let stack: TestStack;
  const clock = { offsetMs: 0 };
  const now = () => Date.now() + clock.offsetMs;
  let handler: ReturnType<typeof makeHandler>;

  const run = async (event: Parameters<typeof handler>[0]) =>
    (await handler(event, lambdaContext('reconcile', 120_000))) as ReconcileReport & BackfillReport;
  const state = async (code: string) => (await stack.request('GET', `/contracts/${code}`)).body.state;
  const asked = (code: string) =>
    stack.simulator?.requests().filter((r) => r.method === 'GET' && r.url.endsWith(`/${code}`)).length ?? 0;

  /** A record as an earlier presign left it, `ageMs` ago, written through the service's own store. */
  const lapsed = (code: string, state: ContractRecord['state'], ageMs: number): ContractRecord => ({
    ...PRESIGNED_BY_US,
    out_contract_code: code,
    state,
    created_at: new Date(now() - ageMs).toISOString(),
    updated_at: new Date(now() - ageMs).toISOString(),
    version: 1,
  });

  before(async () => {
    stack = await startTestStack({ simulator: { clock: now } });
    handler = makeHandler(reconcileDeps(createRuntime({ clock: now })));
  });
  after(async () => {
    await stack?.close();
  });

  test('200 records WeChat Pay will not answer for do not stop a settleable one from being settled', async () => {
    const store = new DynamoContractStore(stack.db, String(stack.env.CONTRACTS_TABLE));
    const prefix = uniqueCode('STUCK');
    const stuck = Array.from({ length: 200 }, (_, i) => `${prefix}x${i}`);
    for (let i = 0; i < stuck.length; i += 25) {
      await Promise.all(
        stuck.slice(i, i + 25).map((code) => store.save(lapsed(code, 'PRESIGN_UNKNOWN', 60 * MINUTE))),
      );
    }
    // WeChat Pay refuses every query about them, run after run.
    stack.simulator?.injectFault({ path: contractPath(prefix), method: 'GET', count: 100_000, status: 400 });

    // A presign nobody signs, its token lapsed 13 minutes on: settleable (WeChat Pay knows no contract).
    const body = h5Body();
    const code = String(body.out_contract_code);
    assert.equal((await stack.request('POST', '/contracts/h5-presign', body)).status, 201);
    clock.offsetMs = 13 * MINUTE;

    const first = await run({ limit: 200 });
    assert.deepEqual([first.examined, first.failed], [200, 200], JSON.stringify(first));
    assert.equal(asked(code), 0, 'the 200 were due first');
    const second = await run({ limit: 200 });
    assert.deepEqual([second.examined, second.settled], [1, { EXPIRED: 1 }], JSON.stringify(second));
    assert.equal(await state(code), 'EXPIRED');
    const third = await run({ limit: 200 });
    assert.equal(third.examined, 0, 'the 200 wait for their backoff, behind everything due before');
  });

  test('records written before the queue are placed in it by the migration, then settled', async () => {
    const unknown = uniqueCode('OLD');
    const signed = uniqueCode('OLDSIGNED');
    for (const record of [
      lapsed(unknown, 'PRESIGN_UNKNOWN', 60 * MINUTE),
      lapsed(signed, 'SIGNED', 60 * MINUTE),
    ]) {
      // As the previous release wrote them: no place in the queue.
      await stack.db.send(new PutCommand({ TableName: stack.env.CONTRACTS_TABLE, Item: record }));
    }
    assert.equal((await run({ limit: 200 })).examined, 0, 'not in the queue');
    let step = await run({ backfill: true });
    let queued = step.queued;
    while (step.cursor) {
      step = await run({ backfill: true, cursor: step.cursor });
      queued += step.queued;
    }
    assert.equal(queued, 2);
    const settled = await run({ limit: 200 });
    assert.deepEqual(settled.settled, { EXPIRED: 1 }, JSON.stringify(settled));
    assert.equal(await state(unknown), 'EXPIRED');
    assert.equal(asked(signed), 0, 'SIGNED waits for its first cycle');
    assert.equal((await run({ backfill: true })).queued, 0, 'a second migration finds nothing');
  });
});
