/**
 * Bad-input corpus (README "What we promise and how it is tested"): every malformed presign request gets
 * 400 VALIDATION_FAILED whose errors name the field as a JSON pointer ("" for the whole body), over HTTP and by
 * direct invocation, and none of them writes anything or reaches WeChat Pay.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { handler as presignHandler } from '../../functions/presign';
import type { FieldIssue } from '../../lib/errors';
import { checkResponse } from '../support/docs/openapi';
import { startTestStack, type TestStack } from '../support/local/stack';
import { BAD_BODIES, type BadBody } from './helpers/bad-bodies';
import { lambdaContext } from './helpers/lambda';

const fieldsOf = (errors: unknown): string[] =>
  Array.isArray(errors) ? (errors as FieldIssue[]).map((e) => e.field) : [];

describe('bad-input corpus', () => {
  let stack: TestStack;

  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.close();
  });

  /** Sends the case as the client wrote it: JSON from `body`, or the exact bytes of `raw`. */
  async function send(c: BadBody): Promise<{ status: number; body: Record<string, unknown> }> {
    const path = c.route === 'app' ? '/contracts/app-presign' : '/contracts/h5-presign';
    if (c.raw === undefined) return stack.request('POST', path, c.body);
    const res = await fetch(`${stack.api.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: c.raw,
    });
    const text = await res.text();
    const body = JSON.parse(text) as Record<string, unknown>;
    checkResponse('POST', path, res.status, res.headers, body);
    return { status: res.status, body };
  }

  test('the corpus holds at least 40 malformed bodies', () => {
    assert.ok(BAD_BODIES.length >= 40, `only ${BAD_BODIES.length}`);
    assert.equal(new Set(BAD_BODIES.map((c) => c.name)).size, BAD_BODIES.length, 'names are unique');
  });

  for (const c of BAD_BODIES) {
    test(`${c.name}: 400 VALIDATION_FAILED naming ${c.field || '"" (the whole body)'}`, async () => {
      const answer = await send(c);
      assert.equal(answer.status, 400, JSON.stringify(answer.body).slice(0, 500));
      assert.equal(answer.body.code, 'VALIDATION_FAILED');
      assert.ok(
        fieldsOf(answer.body.errors).includes(c.field),
        `expected ${JSON.stringify(c.field)} among ${JSON.stringify(answer.body.errors).slice(0, 500)}`,
      );
    });
  }

  test('by direct invocation, every JSON body of the corpus throws ValidationFailed naming the field', async () => {
    const direct = BAD_BODIES.filter((c) => c.body !== undefined && c.route !== 'app');
    assert.ok(direct.length >= 40);
    for (const c of direct) {
      await assert.rejects(presignHandler(c.body, lambdaContext('presign')), (error: unknown) => {
        assert.equal((error as Error).name, 'ValidationFailed', `${c.name}: ${String(error)}`);
        const fields = fieldsOf((error as { errors?: unknown }).errors);
        assert.ok(fields.includes(c.directField ?? c.field), `${c.name}: ${JSON.stringify(fields)}`);
        return true;
      });
    }
  });

  test('nothing was written and WeChat Pay was never called', async () => {
    assert.deepEqual(await stack.scan('contracts'), []);
    assert.deepEqual(await stack.scan('notifications'), []);
    assert.deepEqual(stack.simulator?.requests(), []);
  });
});
