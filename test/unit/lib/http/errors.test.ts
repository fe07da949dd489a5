import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dependencyUnavailable } from '../../../../lib/aws/dependency';
import {
  ContractNotFound,
  DependencyUnavailable,
  SignatureInvalid,
  WechatPayRejected,
  WechatPayUnavailable,
} from '../../../../lib/errors';
import { errorResponse, UNAVAILABLE_MESSAGES } from '../../../../lib/http/errors';

/** What AWS and our own layers put in error messages: none of it may reach a caller in a 503. */
const ROLE_ARN = 'arn:aws:sts::123456789012:assumed-role/wechatpay-credit-repayment-prod-contracts/fn';
const TABLE_ARN =
  'arn:aws:dynamodb:ap-southeast-1:123456789012:table/wechatpay-credit-repayment-prod-contracts';
const KEY_ARN = 'arn:aws:kms:ap-southeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const awsError = (name: string, message: string) => Object.assign(new Error(message), { name });

const CORPUS: { name: string; error: Error }[] = [
  {
    name: 'DynamoDB access denied (role and table ARNs)',
    error: dependencyUnavailable(
      'DynamoDB',
      'GetItem',
      awsError(
        'AccessDeniedException',
        `User: ${ROLE_ARN} is not authorized to perform: dynamodb:GetItem on resource: ${TABLE_ARN}`,
      ),
    ),
  },
  {
    name: 'KMS throttled (key id in our own message)',
    error: dependencyUnavailable(
      'KMS',
      `Sign with ${KEY_ARN}`,
      awsError('ThrottlingException', 'Rate exceeded'),
    ),
  },
  {
    name: 'KMS key disabled (key ARN in AWS text)',
    error: dependencyUnavailable(
      'KMS',
      'Sign with alias/wechatpay-merchant',
      awsError('DisabledException', `${KEY_ARN} is disabled.`),
    ),
  },
  {
    name: 'DynamoDB unreachable (endpoint and port)',
    error: dependencyUnavailable(
      'DynamoDB',
      'TransactWriteItems',
      awsError('Error', 'connect ECONNREFUSED 127.0.0.1:8000'),
    ),
  },
  {
    name: 'a dependency error built by hand',
    error: new DependencyUnavailable('EventBridge', `PutEvents on ${ROLE_ARN} failed`),
  },
  {
    name: 'WeChat Pay unavailable (request id, attempts)',
    error: new WechatPayUnavailable(
      'HTTP 503 SYSTEM_ERROR after 3 attempts (Request-ID 08F4A2B6C8)',
      '08F4A2B6C8',
    ),
  },
  {
    name: 'WeChat Pay answer not verified (our key ids)',
    error: new SignatureInvalid(
      'response signature rejected: unknown serial PUB_KEY_ID_0114232134912410000000000000 (known: PUB_KEY_ID_9999)',
    ),
  },
];

const LEAKS = [
  /arn:/i,
  /PUB_KEY_ID_/,
  /alias\//,
  /Exception/,
  /ECONNREFUSED|127\.0\.0\.1/,
  /Request-ID/,
  /\d{12}/,
];

describe('errorResponse: a 503 says little', () => {
  for (const { name, error } of CORPUS) {
    it(`${name}: 503, the code, a generic message, Retry-After`, () => {
      const response = errorResponse(error);
      assert.equal(response.statusCode, 503);
      assert.equal(response.headers?.['retry-after'], '1');
      const body = JSON.parse(String(response.body)) as Record<string, unknown>;
      const code = (error as DependencyUnavailable).code;
      assert.deepEqual(body, { code, message: UNAVAILABLE_MESSAGES[code] });
      for (const leak of LEAKS) assert.doesNotMatch(String(response.body), leak, `${name} leaks ${leak}`);
      // The corpus is meaningful: each error's own message does carry something that must not leak.
      assert.ok(
        LEAKS.some((leak) => leak.test(error.message)),
        `${name}: its message holds nothing to hide`,
      );
    });
  }

  it('refusals below 500 still say why, with their details', () => {
    const notFound = JSON.parse(String(errorResponse(new ContractNotFound('C1')).body));
    assert.deepEqual(notFound, {
      code: 'CONTRACT_NOT_FOUND',
      message: 'no contract with out_contract_code C1',
    });
    const rejected = errorResponse(
      new WechatPayRejected({
        status: 400,
        code: 'PARAM_ERROR',
        message: 'plan_id invalid',
        request_id: 'R1',
      }),
    );
    assert.equal(rejected.statusCode, 502);
    assert.deepEqual(JSON.parse(String(rejected.body)).wechatpay, {
      status: 400,
      code: 'PARAM_ERROR',
      message: 'plan_id invalid',
      request_id: 'R1',
    });
  });

  it('an unexpected error is a bare 500 without its message', () => {
    const response = errorResponse(new Error(`boom at ${TABLE_ARN}`));
    assert.equal(response.statusCode, 500);
    assert.doesNotMatch(String(response.body), /arn:|boom/);
  });
});
