import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { handler } from '../../../functions/reconcile';
import type { Fault } from '../../../infra/local/simulator';
import { contractDeps } from '../../../lib/config/deps';
import type { ContractState } from '../../../lib/contracts/lifecycle';
import { LOOK_MS, type ReconcileReport } from '../../../lib/contracts/reconcile';
import { TERMINATE_PATH } from '../../../lib/wechatpay/credit-repayment';
import { h5Body } from '../../support/contracts/fixtures';
import { startTestStack, type TestStack } from '../../support/local/stack';
import {
  lambdaContext,
  NOTIFY_PATH,
  newWechatPayKeys,
  post,
  resend,
} from '../../support/wechatpay/callbacks';

// functions/reconcile.ts, invoked as the schedule would, over 50 stale contracts in every state plus young
// ones it must leave alone. Stale means "as if 30 minutes had passed": the times in our records are moved back
// in DynamoDB; WeChat Pay (the simulator) keeps its own truth, which answers 404 for any code nobody signed.

const PRESIGN = '/v3/credit-repayment/partner/contracts/h5-presign';
const MINUTE = 60_000;

/** What each group of contracts is before reconcile, and what reconcile must leave it as. */
const GROUPS = {
  // Reconcile's work: presign lapsed with WeChat Pay's outcome unknown to us.
  presignedLapsed: { n: 8, final: 'EXPIRED' },
  presignedSignedCallbackLost: { n: 8, final: 'SIGNED' },
  presignedSignedTerminatedCallbacksLost: { n: 2, final: 'TERMINATED' },
  unknownAfter500s: { n: 5, final: 'EXPIRED' },
  unknownAfterDropsSigned: { n: 3, final: 'SIGNED' },
  unknownAfterDropsUnsigned: { n: 2, final: 'EXPIRED' },
  presigningNeverSent: { n: 3, final: 'EXPIRED' },
  presigningSentUnsigned: { n: 3, final: 'EXPIRED' },
  presigningSentSigned: { n: 2, final: 'SIGNED' },
  // Not yet reconcile's: a SIGNED contract is asked about again once a cycle (a day), so 30 minutes in, its
  // lost TERMINATE_CONTRACT waits for that cycle, or for ?sync=true.
  signedTerminatedAtWechatCallbackLost: { n: 2, final: 'SIGNED' },
  presignFailed: { n: 3, final: 'PRESIGN_FAILED' },
  signed: { n: 3, final: 'SIGNED' },
  terminated: { n: 3, final: 'TERMINATED' },
  expired: { n: 3, final: 'EXPIRED' },
} satisfies Record<string, { n: number; final: ContractState }>;
type Group = keyof typeof GROUPS;

/** Young contracts whose presign token may still be open: reconcile must not even ask WeChat Pay. */
const YOUNG = { youngUnknown: 6, youngPresigned: 2 };
type Name = Group | keyof typeof YOUNG;
const size = (g: Name): number => (g in GROUPS ? GROUPS[g as Group].n : YOUNG[g as keyof typeof YOUNG]);

describe('reconcile over 50 stale contracts in every state', () => {
  let stack: TestStack;
  const keys = newWechatPayKeys();
  const codes = new Map<Name, string[]>();
  const tokens = new Map<string, string>();
  const snapshot: Record<string, Record<string, unknown>> = {};

  const simulator = () => {
    assert.ok(stack.simulator);
    return stack.simulator;
  };
  const group = (g: Name) => codes.get(g) ?? [];
  const add = (g: Name, code: string) => codes.set(g, [...group(g), code]);

  async function presign(g: Name, expected = 201): Promise<string> {
    const body = h5Body();
    const code = String(body.out_contract_code);
    const res = await stack.request('POST', '/contracts/h5-presign', body);
    assert.equal(res.status, expected, JSON.stringify(res.body));
    if (res.body.redirect_url) {
      tokens.set(code, new URL(String(res.body.redirect_url)).searchParams.get('token') ?? '');
    } else {
      // Outcome unknown to us; the simulator may still have taken it (a dropped answer).
      const taken = simulator()
        .contracts()
        .find((c) => c.out_contract_code === code);
      if (taken) tokens.set(code, taken.presign_token);
    }
    add(g, code);
    return code;
  }

  async function dropCallbacks(count: number) {
    const res = await fetch(`${simulator().url}/sandbox/drop-callbacks`, {
      method: 'POST',
      body: JSON.stringify({ count }),
    });
    assert.equal(res.status, 200);
  }

  /** The user signs in WeChat; `lost` says whether WeChat Pay's SIGN_CONTRACT never reached us. */
  async function agree(code: string, lost: boolean) {
    if (lost) await dropCallbacks(1);
    await simulator().agree(tokens.get(code) ?? '');
    const delivery = simulator()
      .callbacks()
      .find((c) => c.out_contract_code === code);
    assert.equal(delivery?.state, lost ? 'dropped' : 'delivered', code);
  }

  /** The user (or customer service) terminates inside WeChat, and the TERMINATE_CONTRACT callback is lost. */
  async function terminateAtWechatPay(code: string) {
    await dropCallbacks(1);
    const { wechatpay } = await contractDeps().load();
    await wechatpay.call({
      method: 'POST',
      path: TERMINATE_PATH,
      body: { out_contract_code: code, contract_termination_remark: '用户在微信内解约' },
    });
    await waitFor(() =>
      simulator()
        .callbacks()
        .some((c) => c.out_contract_code === code && c.event_type.endsWith('TERMINATE_CONTRACT')),
    );
  }

  async function waitFor(done: () => boolean) {
    for (let i = 0; i < 300 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(done(), 'condition not reached in 3 s');
  }

  const record = async (code: string) =>
    (await stack.request('GET', `/contracts/${code}`)).body as Record<string, unknown>;

  /**
   * Moves a record's clock back, as if `ageMs` had passed since it was last written (its place in reconcile's
   * queue moves back with it); optionally rewrites it.
   */
  async function age(code: string, ageMs: number, rewrite?: { state: ContractState; forget?: string[] }) {
    const at = (ms: number) => new Date(Date.now() - ageMs + ms).toISOString();
    const { Item: current = {} } = await stack.db.send(
      new GetCommand({ TableName: stack.env.CONTRACTS_TABLE, Key: { out_contract_code: code } }),
    );
    const sets = ['updated_at = :u', 'created_at = :c'];
    const values: Record<string, unknown> = { ':u': at(0), ':c': at(-2000) };
    const names: Record<string, string> = {};
    if (current.next_check_at) {
      const moved = Date.parse(at(0)) - Date.parse(String(current.updated_at));
      sets.push('next_check_at = :n');
      values[':n'] = new Date(Date.parse(String(current.next_check_at)) + moved).toISOString();
    }
    if (current.expires_at && !rewrite?.forget?.includes('expires_at')) {
      sets.push('expires_at = :e');
      values[':e'] = at(10 * MINUTE);
    }
    if (rewrite) {
      sets.push('#state = :s');
      names['#state'] = 'state';
      values[':s'] = rewrite.state;
    }
    const remove = rewrite?.forget?.length ? ` REMOVE ${rewrite.forget.join(', ')}` : '';
    await stack.db.send(
      new UpdateCommand({
        TableName: stack.env.CONTRACTS_TABLE,
        Key: { out_contract_code: code },
        UpdateExpression: `SET ${sets.join(', ')}${remove}`,
        ExpressionAttributeValues: values,
        ...(rewrite ? { ExpressionAttributeNames: names } : {}),
      }),
    );
  }

  /**
   * A Lambda context whose remaining time drops just below the 10 s in which reconcile starts no look (LOOK_MS)
   * after `reads` reads of it: looks already started still have time for their query and writes. Middy reads it
   * once itself (its early-timeout guard); reconcile reads it before each contract, and again within each look.
   */
  function context(reads = Number.POSITIVE_INFINITY): Context {
    let calls = 0;
    return {
      ...lambdaContext('reconcile'),
      getRemainingTimeInMillis: () => (++calls > reads ? LOOK_MS - 1_000 : 100_000),
    };
  }

  const run = (limit: number, ctx = context()) => handler({ limit }, ctx) as Promise<ReconcileReport>;

  before(
    async () => {
      stack = await startTestStack({
        simulator: { publicKey: { id: keys.serial, privateKey: keys.privateKey } },
      });
      keys.apiV3Key = stack.keyMaterial.apiV3Key;

      // Presigns WeChat Pay answers, a few at a time (no faults armed; more at once could outlast the 1.5 s
      // WeChat Pay timeout on a busy CI machine).
      const plain: Name[] = [
        'presignedLapsed',
        'presignedSignedCallbackLost',
        'presignedSignedTerminatedCallbacksLost',
        'presigningSentUnsigned',
        'presigningSentSigned',
        'signedTerminatedAtWechatCallbackLost',
        'signed',
        'terminated',
        'expired',
        'youngPresigned',
      ];
      const queue = plain.flatMap((g) => Array.from({ length: size(g) }, () => g));
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let g = queue.shift(); g; g = queue.shift()) await presign(g);
        }),
      );

      // Presigns under faults, one at a time (faults are consumed in order by whichever request comes).
      const faulted: [Name, Omit<Fault, 'path'>, number][] = [
        ['unknownAfter500s', { count: 3, status: 500 }, 503],
        ['presigningNeverSent', { count: 3, status: 500 }, 503],
        ['youngUnknown', { count: 3, status: 503 }, 503],
        // WeChat Pay takes the first attempt, every answer is lost, the resends are refused and lost too.
        ['unknownAfterDropsSigned', { count: 3, drop: true }, 503],
        ['unknownAfterDropsUnsigned', { count: 3, drop: true }, 503],
        ['presignFailed', { count: 1, status: 403 }, 502],
      ];
      for (const [g, fault, status] of faulted) {
        for (let i = 0; i < size(g); i++) {
          simulator().injectFault({ path: PRESIGN, ...fault });
          await presign(g, status);
        }
      }
      for (const code of [...group('unknownAfterDropsSigned'), ...group('unknownAfterDropsUnsigned')]) {
        assert.ok(tokens.get(code), `WeChat Pay took ${code} although we never heard back`);
      }

      // Users sign; some callbacks are lost, some contracts are then terminated inside WeChat.
      for (const g of [
        'presignedSignedCallbackLost',
        'unknownAfterDropsSigned',
        'presigningSentSigned',
      ] as const) {
        for (const code of group(g)) await agree(code, true);
      }
      for (const code of group('presignedSignedTerminatedCallbacksLost')) {
        await agree(code, true);
        await terminateAtWechatPay(code);
      }
      for (const code of group('signedTerminatedAtWechatCallbackLost')) {
        await agree(code, false);
        await terminateAtWechatPay(code);
      }
      for (const code of [...group('signed'), ...group('terminated')]) await agree(code, false);
      for (const code of group('terminated')) {
        const res = await stack.request('POST', `/contracts/${code}/terminate`, {
          contract_termination_remark: '客户申请解约',
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
      await waitFor(() =>
        simulator()
          .callbacks()
          .every((c) => c.state !== 'pending'),
      );

      // Thirty minutes pass for everything but the young ones. Some presign Lambdas "died" mid-way: the claim
      // is all that was stored (PRESIGNING), whether or not WeChat Pay took the presign.
      const stale = Object.keys(GROUPS) as Group[];
      for (const [i, code] of stale.flatMap((g) => group(g)).entries())
        await age(code, 30 * MINUTE + i * 1000);
      for (const code of group('presigningNeverSent')) await age(code, 25 * MINUTE, { state: 'PRESIGNING' });
      for (const code of [...group('presigningSentUnsigned'), ...group('presigningSentSigned')]) {
        const forget = ['redirect_url', 'expires_at', 'wechatpay_request_id'];
        await age(code, 25 * MINUTE, { state: 'PRESIGNING', forget });
      }
      // Expired ones were settled earlier by a sync.
      for (const code of group('expired')) {
        assert.equal((await stack.request('GET', `/contracts/${code}?sync=true`)).body.state, 'EXPIRED');
      }

      for (const [g, spec] of Object.entries(GROUPS)) {
        assert.equal(group(g as Group).length, spec.n, g);
      }
      assert.equal(
        stale.reduce((n, g) => n + group(g).length, 0),
        50,
      );
      await stack.drainEvents();
      for (const code of [...stale.flatMap(group), ...group('youngUnknown'), ...group('youngPresigned')]) {
        snapshot[code] = await record(code);
      }
    },
    { timeout: 60_000 },
  );
  after(async () => {
    await stack?.close();
  });

  test('settles every contract through runs bounded in work, one interrupted, rerun until nothing changes', async () => {
    const commands: { name: string; input: Record<string, unknown> }[] = [];
    const prototype = DynamoDBDocumentClient.prototype as unknown as {
      send: (...args: unknown[]) => unknown;
    };
    const send = prototype.send;
    prototype.send = function (this: unknown, ...args: unknown[]) {
      const command = args[0] as { constructor: { name: string }; input: Record<string, unknown> };
      commands.push({ name: command.constructor.name, input: command.input });
      return send.apply(this, args);
    };
    const queriesBefore = simulator()
      .requests()
      .filter((r) => r.method === 'GET').length;
    const reports: ReconcileReport[] = [];
    try {
      // The Lambda runs out of time a few contracts in.
      reports.push(await run(7, context(4)));
      const interrupted = reports[0]?.examined ?? 0;
      assert.ok(interrupted > 0 && interrupted < 7, `examined ${interrupted} before stopping`);

      // WeChat Pay resends two of the lost SIGN_CONTRACT callbacks while reconcile runs: conditional writes
      // decide who settles each contract, and it is announced once either way.
      const racing = group('presignedSignedCallbackLost').slice(0, 2);
      const resent = racing.map((code) => {
        const lost = simulator()
          .callbacks()
          .find((c) => c.out_contract_code === code);
        assert.ok(lost);
        return post(
          `${stack.api.url}${NOTIFY_PATH}`,
          resend(keys, { id: lost.id, headers: {}, body: Buffer.from(lost.body) }),
        );
      });
      const [report, ...answers] = await Promise.all([run(7), ...resent]);
      reports.push(report as ReconcileReport);
      for (const a of answers) assert.equal((a as { status: number }).status, 204);

      for (let i = 0; i < 20; i++) {
        const next = await run(7);
        reports.push(next);
        assert.ok(next.examined <= 7, 'bounded by limit');
        if (next.examined === 0) break;
      }
    } finally {
      prototype.send = send;
    }
    assert.equal(reports.at(-1)?.examined, 0, `still finding work after ${reports.length} runs`);
    assert.equal(
      reports.reduce((n, r) => n + r.failed, 0),
      0,
      JSON.stringify(reports),
    );

    // Found through reconcile's queue only (and the repayments awaiting WeChat Pay through their poll index).
    assert.ok(commands.some((c) => c.name === 'QueryCommand'));
    for (const c of commands) {
      assert.notEqual(c.name, 'ScanCommand', 'reconcile scanned the table');
      if (c.name !== 'QueryCommand') continue;
      const index = c.input.TableName === stack.env.REPAYMENTS_TABLE ? 'by_poll' : 'by_next_check';
      assert.equal(c.input.IndexName, index, String(c.input.TableName));
    }

    // Every contract ends where WeChat Pay's word (or its silence after the token lapsed) puts it.
    for (const [g, spec] of Object.entries(GROUPS)) {
      for (const code of group(g as Group)) {
        const now = await record(code);
        assert.equal(now.state, spec.final, `${g} ${code}`);
      }
    }
    await stack.drainEvents();
    const announced = (code: string, type: string) =>
      stack.events.filter((e) => e.detail.out_contract_code === code && e.type === type).length;
    for (const g of [
      'presignedSignedCallbackLost',
      'unknownAfterDropsSigned',
      'presigningSentSigned',
    ] as const) {
      for (const code of group(g)) {
        assert.equal(announced(code, 'ContractSigned'), 1, `${g} ${code}`);
        const contract = simulator()
          .contracts()
          .find((c) => c.out_contract_code === code);
        assert.equal((await record(code)).contract_id, contract?.contract_id);
      }
    }
    for (const code of group('presignedSignedTerminatedCallbacksLost')) {
      assert.equal(announced(code, 'ContractTerminated'), 1, code);
      assert.equal((await record(code)).contract_terminated_mode, 'TERMINATION_MODE_BY_MERCHANT');
    }
    for (const g of [
      'presignedLapsed',
      'unknownAfter500s',
      'unknownAfterDropsUnsigned',
      'presigningNeverSent',
      'presigningSentUnsigned',
    ] as const) {
      for (const code of group(g)) assert.equal(announced(code, 'ContractExpired'), 1, `${g} ${code}`);
    }

    // Final and out-of-scope states were not written at all; young contracts were not even asked about.
    for (const g of [
      'presignFailed',
      'signed',
      'terminated',
      'expired',
      'signedTerminatedAtWechatCallbackLost',
    ] as const) {
      for (const code of group(g)) assert.deepEqual(await record(code), snapshot[code], `${g} ${code}`);
    }
    const asked = simulator()
      .requests()
      .filter((r) => r.method === 'GET')
      .slice(queriesBefore)
      .map((r) => r.url.split('/').pop());
    for (const code of [...group('youngUnknown'), ...group('youngPresigned')]) {
      assert.deepEqual(await record(code), snapshot[code], code);
      assert.ok(!asked.includes(code), `asked WeChat Pay about young ${code}`);
    }
    // 36 contracts were reconcile's to settle; the two racing callbacks may have settled theirs first.
    const settled = reports.reduce((n, r) => n + Object.values(r.settled).reduce((a, b) => a + b, 0), 0);
    assert.ok(settled >= 34 && settled <= 36, `settled ${settled}: ${JSON.stringify(reports)}`);
  });

  test('a SIGNED contract terminated inside WeChat with its callback lost is repaired by ?sync=true', async () => {
    for (const code of group('signedTerminatedAtWechatCallbackLost')) {
      const res = await stack.request('GET', `/contracts/${code}?sync=true`);
      assert.equal(res.body.state, 'TERMINATED', code);
      await stack.drainEvents();
      assert.equal(
        stack.events.filter((e) => e.detail.out_contract_code === code && e.type === 'ContractTerminated')
          .length,
        1,
      );
    }
  });
});
