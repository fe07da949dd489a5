import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { h5Body, PERSON } from '../../../support/contracts/fixtures';
import { startTestStack, type TestStack } from '../../../support/local/stack';

// The local stack's Lambda Invoke API driven by AWS's own client, configured the way another AWS workflow's
// code would be: only AWS_ENDPOINT_URL_LAMBDA and (dummy) credentials differ from a deployed call.

const H5_PATH = '/v3/credit-repayment/partner/contracts/h5-presign';

describe('the Lambda Invoke API of the local stack, through @aws-sdk/client-lambda', () => {
  let stack: TestStack;
  let lambda: LambdaClient;
  const decoder = new TextDecoder();

  async function invoke(FunctionName: string, event: unknown, InvocationType?: 'Event') {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName,
        Payload: Buffer.from(JSON.stringify(event)),
        ...(InvocationType ? { InvocationType } : {}),
      }),
    );
    const text = out.Payload ? decoder.decode(out.Payload) : '';
    return { ...out, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  }

  const wechatPayCalls = (code: unknown) =>
    stack.simulator?.requests().filter((r) => r.url === H5_PATH && r.body.includes(String(code))).length;

  before(async () => {
    stack = await startTestStack();
    process.env.AWS_ENDPOINT_URL_LAMBDA = stack.lambda.url;
    lambda = new LambdaClient({
      region: 'ap-southeast-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });
  after(async () => {
    lambda?.destroy();
    await stack?.close();
  });

  it('presigns by direct invocation and returns the presign result as the payload', async () => {
    const body = h5Body();
    const out = await invoke('presign', body);
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, undefined, JSON.stringify(out.body));
    assert.equal(out.ExecutedVersion, '$LATEST');
    assert.equal(out.body?.out_contract_code, body.out_contract_code);
    assert.equal(out.body?.state, 'PRESIGNED');
    assert.ok(String(out.body?.redirect_url).startsWith(`${stack.simulator?.url}/sign?token=`));
    assert.equal(wechatPayCalls(body.out_contract_code), 1);

    // The identical request by the deployed function's ARN: the same result, replayed without WeChat Pay.
    const arn = 'arn:aws:lambda:ap-southeast-1:123456789012:function:wechatpay-credit-repayment-prod-presign';
    const again = await invoke(arn, body);
    assert.equal(again.FunctionError, undefined, JSON.stringify(again.body));
    assert.deepEqual(again.body, out.body);
    assert.equal(wechatPayCalls(body.out_contract_code), 1);
  });

  it('answers a refused body as Lambda answers an error: Unhandled, errorType ValidationFailed', async () => {
    const body = h5Body({ repayment_day: 32 });
    const out = await invoke('presign', body);
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(out.body?.errorType, 'ValidationFailed');
    assert.match(String(out.body?.errorMessage), /\/repayment_day/);
    const text = JSON.stringify(out.body);
    for (const secret of [PERSON.name, PERSON.id])
      assert.ok(!text.includes(secret), 'personal data in the error');
    assert.equal(
      (await stack.scan('contracts')).filter((i) => i.out_contract_code === body.out_contract_code).length,
      0,
    );
  });

  it('refuses an unknown function with ResourceNotFoundException (404)', async () => {
    await assert.rejects(invoke('presignn', {}), (error: unknown) => {
      assert.ok(error instanceof ResourceNotFoundException, String(error));
      assert.equal(error.$metadata.httpStatusCode, 404);
      assert.match(
        error.message,
        /^Function not found: arn:aws:lambda:ap-southeast-1:000000000000:function:presignn/,
      );
      return true;
    });
  });

  it('accepts an Event invocation with 202 and runs it in the background', async () => {
    const body = h5Body();
    const out = await invoke('wechatpay-credit-repayment-dev-presign', body, 'Event');
    assert.equal(out.StatusCode, 202);
    assert.equal(out.body, undefined, 'an Event invocation has no payload');
    let record: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && record?.state !== 'PRESIGNED'; i++) {
      await sleep(100);
      record = (await stack.scan('contracts')).find((r) => r.out_contract_code === body.out_contract_code);
    }
    assert.equal(record?.state, 'PRESIGNED', JSON.stringify(record));
    assert.equal(wechatPayCalls(body.out_contract_code), 1);
  });
});
