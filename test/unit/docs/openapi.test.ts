import assert, { AssertionError } from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { readYaml } from '../../../infra/local/tables';
import { applyFacts } from '../../../lib/contracts/lifecycle';
import { type ContractRecord, publicView } from '../../../lib/contracts/model';
import { presign } from '../../../lib/contracts/presign';
import { type TerminateDeps, terminate } from '../../../lib/contracts/terminate';
import { validatePresign } from '../../../lib/contracts/validation';
import {
  BookingInProgress,
  ContractCodeUsed,
  ContractNotFound,
  ContractStateConflict,
  DeductionInProgress,
  DependencyUnavailable,
  type ErrorCode,
  NotificationRejected,
  PayloadTooLarge,
  PresignInProgress,
  RepaymentIdUsed,
  RepaymentNotDue,
  RepaymentNotFound,
  RepaymentStateConflict,
  type ServiceError,
  SignatureInvalid,
  TradeNoUsed,
  ValidationFailed,
  WechatPayRejected,
  WechatPayUnavailable,
} from '../../../lib/errors';
import { errorResponse } from '../../../lib/http/errors';
import { callbackErrors } from '../../../lib/http/notification';
import { json } from '../../../lib/http/response';
import { logger } from '../../../lib/observability';
import { validateBooking, validateDeduct } from '../../../lib/repayments/validation';
import { h5Body, PERSON } from '../../support/contracts/fixtures';
import { gatewayDouble } from '../../support/contracts/gateway';
import { MemoryContractStore } from '../../support/contracts/memory-store';
import { presignTestDeps } from '../../support/contracts/presign-deps';
import { checkRequest, checkResponse, openapi } from '../../support/docs/openapi';

logger.setLogLevel('SILENT');

const ROOT = new URL('../../../', import.meta.url);
const T0 = Date.parse('2026-11-27T04:00:00Z');
const PRESIGN_H5 = 'POST /contracts/h5-presign';
const PRESIGN_APP = 'POST /contracts/app-presign';
const GET = 'GET /contracts/LOAN1';
const TERMINATE = 'POST /contracts/LOAN1/terminate';
const CALLBACK = 'POST /wechatpay/notifications';
const BOOK = 'POST /contracts/LOAN1/repayments';
const REPAYMENT = 'GET /repayments/R1';
const DEDUCT = 'POST /repayments/R1/deduct';
const API = [PRESIGN_H5, PRESIGN_APP, GET, TERMINATE, BOOK, REPAYMENT, DEDUCT];

/** `(route, status, headers, body)` against the document, route as "METHOD /concrete/path". */
function check(route: string, status: number, headers: Record<string, string>, body: unknown): void {
  const [method = '', path = ''] = route.split(' ');
  checkResponse(method, path, status, headers, body);
}

/** Checks what our edge code (lib/http/errors.ts) answers for `error` on `route`. */
function checkError(route: string, error: unknown): void {
  const response = errorResponse(error);
  check(route, response.statusCode ?? 0, response.headers as Record<string, string>, bodyOf(response));
}

const bodyOf = (r: { body?: string }) => JSON.parse(r.body ?? '') as Record<string, unknown>;
const rejects = (fn: () => void, why: string) => assert.throws(fn, AssertionError, why);

// --- the document itself ---------------------------------------------------------------------------

function* refs(node: unknown): Generator<string> {
  if (Array.isArray(node)) for (const item of node) yield* refs(item);
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') yield value;
      else yield* refs(value);
    }
  }
}

function resolve(ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `${ref} is not a local reference`);
  return ref
    .slice(2)
    .split('/')
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], openapi);
}

type Param = { name: string; in: string; required?: boolean };
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const operations = Object.entries(openapi.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => METHODS.includes(method))
    .map(([method, op]) => ({
      path,
      method,
      op: op as unknown as Record<string, unknown> & { responses: Record<string, { description?: string }> },
      params: [...((item.parameters ?? []) as unknown as Param[]), ...((op.parameters ?? []) as Param[])],
    })),
);

test('the document has the shape of OpenAPI 3.1 and every $ref resolves', () => {
  assert.equal(openapi.openapi, '3.1.0');
  const info = openapi.info as { title?: unknown; version?: unknown };
  assert.equal(typeof info.title, 'string');
  assert.equal(typeof info.version, 'string');
  const all = [...refs(openapi)];
  assert.ok(all.length > 20, 'the document shares its schemas through $ref');
  for (const ref of all) assert.notEqual(resolve(ref), undefined, `${ref} does not resolve`);
  const ids = operations.map((o) => o.op.operationId);
  assert.equal(new Set(ids).size, ids.length, `operationIds are unique: ${ids.join(', ')}`);
  for (const { path, method, op } of operations) {
    assert.ok(
      Object.keys(op.responses).some((s) => s.startsWith('2')),
      `${method} ${path} has a 2xx`,
    );
    for (const [status, response] of Object.entries(op.responses)) {
      const r = (response as { $ref?: string }).$ref
        ? resolve((response as { $ref: string }).$ref)
        : response;
      assert.equal(
        typeof (r as { description?: unknown }).description,
        'string',
        `${method} ${path} ${status}`,
      );
    }
  }
});

test('every path parameter is declared, required and in the template; and only those', () => {
  for (const { path, method, params } of operations) {
    const inTemplate = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
    const declared = params.filter((p) => p.in === 'path');
    assert.deepEqual(declared.map((p) => p.name).sort(), inTemplate, `${method} ${path}`);
    for (const p of declared) assert.equal(p.required, true, `${method} ${path} {${p.name}} is required`);
  }
});

test('every schema compiles (patterns are valid ECMA-262 regular expressions with the u flag)', () => {
  const ajv = new Ajv2020({ strict: false });
  addFormats(ajv);
  ajv.addSchema(openapi, 'doc');
  const names = Object.keys(openapi.components.schemas as object);
  for (const name of names) ajv.compile({ $ref: `doc#/components/schemas/${name}` });
  assert.ok(names.length > 20);
});

test('the routes are those of README "API" and serverless.yml, with IAM exactly where serverless.yml puts it', () => {
  const documented = operations.map((o) => `${o.method.toUpperCase()} ${o.path}`).sort();
  assert.deepEqual(documented, [
    'GET /contracts/{out_contract_code}',
    'GET /repayments/{out_record_id}',
    'POST /contracts/app-presign',
    'POST /contracts/h5-presign',
    'POST /contracts/{out_contract_code}/repayments',
    'POST /contracts/{out_contract_code}/terminate',
    'POST /repayments/{out_record_id}/deduct',
    'POST /wechatpay/notifications',
  ]);
  type Sls = {
    functions: Record<
      string,
      { events?: { httpApi?: { method: string; path: string; authorizer?: { type: string } } }[] }
    >;
  };
  const sls = readYaml(fileURLToPath(new URL('serverless.yml', ROOT))) as Sls;
  const deployed = Object.values(sls.functions).flatMap((fn) =>
    (fn.events ?? []).flatMap((e) => (e.httpApi ? [e.httpApi] : [])),
  );
  assert.ok(deployed.length > 0);
  const global = openapi.security as unknown[];
  for (const route of deployed) {
    const found = operations.find((o) => o.path === route.path && o.method === route.method.toLowerCase());
    assert.ok(found, `${route.method} ${route.path} (serverless.yml) is documented`);
    const security = (found.op.security as unknown[] | undefined) ?? global;
    assert.deepEqual(
      security.length > 0,
      route.authorizer?.type === 'aws_iam',
      `${route.method} ${route.path} auth`,
    );
  }
});

// --- error codes ------------------------------------------------------------------------------------

/** One real error per code (a Record, so the typechecker demands a new code here). */
const SAMPLES: Record<ErrorCode, ServiceError> = {
  VALIDATION_FAILED: new ValidationFailed([
    { field: '/real_identity/identity_id', issue: 'has an invalid check digit' },
  ]),
  CONTRACT_CODE_USED: new ContractCodeUsed('LOAN1', 'SIGNED'),
  PRESIGN_IN_PROGRESS: new PresignInProgress('LOAN1'),
  CONTRACT_NOT_FOUND: new ContractNotFound('LOAN1'),
  CONTRACT_STATE_CONFLICT: new ContractStateConflict('only a SIGNED contract can be terminated', 'PRESIGNED'),
  WECHATPAY_REJECTED: new WechatPayRejected({
    status: 400,
    code: 'PARAM_ERROR',
    message: 'bad plan_id',
    request_id: 'r-1',
  }),
  WECHATPAY_UNAVAILABLE: new WechatPayUnavailable('HTTP 503 SYSTEM_ERROR after 3 attempts'),
  WECHATPAY_SIGNATURE_INVALID: new SignatureInvalid('signature does not verify'),
  DEPENDENCY_UNAVAILABLE: new DependencyUnavailable('DynamoDB', 'GetItem timed out'),
  NOTIFICATION_REJECTED: new NotificationRejected('body is not JSON'),
  PAYLOAD_TOO_LARGE: new PayloadTooLarge('body of 70000 bytes exceeds 65536'),
  REPAYMENT_ID_USED: new RepaymentIdUsed('R1', 'SCHEDULED'),
  BOOKING_IN_PROGRESS: new BookingInProgress('R1'),
  REPAYMENT_NOT_FOUND: new RepaymentNotFound('R1'),
  REPAYMENT_NOT_DUE: new RepaymentNotDue('R1', '2026-12-02', '2026-12-01'),
  REPAYMENT_STATE_CONFLICT: new RepaymentStateConflict('repayment R1 cannot be deducted', 'SUCCEEDED'),
  DEDUCTION_IN_PROGRESS: new DeductionInProgress('R1', 'T1', 'DEDUCT_ORDER_STATE_PENDING'),
  TRADE_NO_USED: new TradeNoUsed('T1', 'by repayment R2'),
};

/** Where each code reaches a caller: our API routes, or the callback route (as `FAIL`). */
const ROUTES: Record<ErrorCode, string[]> = {
  VALIDATION_FAILED: API,
  CONTRACT_CODE_USED: [PRESIGN_H5, PRESIGN_APP],
  PRESIGN_IN_PROGRESS: [PRESIGN_H5, PRESIGN_APP],
  CONTRACT_NOT_FOUND: [GET, TERMINATE, BOOK],
  CONTRACT_STATE_CONFLICT: [TERMINATE, BOOK, DEDUCT],
  WECHATPAY_REJECTED: API,
  WECHATPAY_UNAVAILABLE: API,
  WECHATPAY_SIGNATURE_INVALID: [GET, TERMINATE, CALLBACK],
  DEPENDENCY_UNAVAILABLE: API,
  NOTIFICATION_REJECTED: [CALLBACK],
  PAYLOAD_TOO_LARGE: [CALLBACK],
  REPAYMENT_ID_USED: [BOOK],
  BOOKING_IN_PROGRESS: [BOOK],
  REPAYMENT_NOT_FOUND: [REPAYMENT, DEDUCT],
  REPAYMENT_NOT_DUE: [DEDUCT],
  REPAYMENT_STATE_CONFLICT: [DEDUCT],
  DEDUCTION_IN_PROGRESS: [DEDUCT],
  TRADE_NO_USED: [DEDUCT],
};

test('every ErrorCode of lib/errors.ts is in the document, with its real HTTP status and error name', () => {
  // ErrorCode is the protocol's codes (lib/wechatpay/errors.ts) and the service's own.
  const codes = ['lib/wechatpay/errors.ts', 'lib/errors.ts'].flatMap((file) => {
    const source = readFileSync(new URL(file, ROOT), 'utf8');
    const union = /export type (?:WechatPay)?ErrorCode =([^;]+);/.exec(source)?.[1] ?? '';
    return [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]);
  });
  assert.deepEqual(codes.sort(), Object.keys(SAMPLES).sort(), 'SAMPLES covers lib/errors.ts');
  const schemas = openapi.components.schemas as Record<string, { enum?: string[]; description?: string }>;
  assert.deepEqual(schemas.ErrorCode?.enum?.slice().sort(), [...codes, 'INTERNAL_ERROR'].sort());
  for (const [code, error] of Object.entries(SAMPLES)) {
    const row = `| \`${code}\` | ${errorResponse(error).statusCode} | \`${error.name}\` |`;
    assert.ok(schemas.ErrorCode?.description?.includes(row), `ErrorCode table has ${row}`);
  }
});

test('what lib/http/errors.ts answers for each code is documented on the routes that can return it', () => {
  for (const [code, routes] of Object.entries(ROUTES)) {
    for (const route of routes.filter((r) => r !== CALLBACK)) checkError(route, SAMPLES[code as ErrorCode]);
  }
  for (const route of API) checkError(route, new Error('boom'));
  // functions/contracts.ts names a bad path or query parameter rather than a body pointer.
  checkError(GET, new ValidationFailed([{ field: 'sync', issue: 'must be true or false' }]));
  checkError(
    TERMINATE,
    new ValidationFailed([{ field: 'out_contract_code', issue: 'must be 1 to 64 letters' }]),
  );
  rejects(() => checkError(GET, new ValidationFailed([])), 'at least one issue');
  rejects(
    () => checkError(GET, new ValidationFailed([{ field: 'plan_id', issue: 'x' }])),
    'a pointer or a parameter',
  );
  rejects(() => checkError(GET, SAMPLES.CONTRACT_CODE_USED), 'GET never answers CONTRACT_CODE_USED');
  rejects(() => checkError(PRESIGN_H5, SAMPLES.CONTRACT_STATE_CONFLICT), 'presign has no state conflict');
  rejects(
    () => checkError(PRESIGN_H5, SAMPLES.WECHATPAY_SIGNATURE_INVALID),
    'presign maps it to UNAVAILABLE',
  );
});

test('callback answers (lib/http/notification.ts) are documented, always as FAIL', async () => {
  const middleware = callbackErrors(() => {});
  const cases: [unknown, number][] = [
    [SAMPLES.WECHATPAY_SIGNATURE_INVALID, 401],
    [SAMPLES.NOTIFICATION_REJECTED, 400],
    [SAMPLES.PAYLOAD_TOO_LARGE, 413],
    [SAMPLES.DEPENDENCY_UNAVAILABLE, 500],
  ];
  for (const [error, status] of cases) {
    const request = { error, response: undefined } as unknown as Parameters<
      NonNullable<typeof middleware.onError>
    >[0];
    await middleware.onError?.(request);
    const response = request.response as {
      statusCode: number;
      headers: Record<string, string>;
      body: string;
    };
    assert.equal(response.statusCode, status);
    check(CALLBACK, status, response.headers, JSON.parse(response.body));
  }
  check(CALLBACK, 204, {}, undefined);
  rejects(() => check(CALLBACK, 204, {}, { code: 'SUCCESS' }), '204 has no body');
  rejects(
    () => check(CALLBACK, 401, json(401, {}).headers, { code: 'WECHATPAY_SIGNATURE_INVALID', message: 'x' }),
    'FAIL only',
  );
  rejects(
    () => check(CALLBACK, 409, json(409, {}).headers, { code: 'FAIL', message: 'x' }),
    '409 undocumented',
  );
});

// --- request bodies: the document and validation.ts must agree --------------------------------------

const identity = (overrides: Record<string, unknown>) => ({
  real_identity: {
    identity_type: 'REAL_IDENTITY_TYPE_ID_CARD',
    identity_id: PERSON.id,
    real_name: PERSON.name,
    ...overrides,
  },
});
const trade = (overrides: Record<string, unknown> = {}) => ({
  trade_info: { out_trade_no: 'T2026_11-27|*', deduct_amount: 500, ...overrides },
});

const ACCEPTED: [string, 'H5' | 'APP', Record<string, unknown>][] = [
  ['the fixture body', 'H5', h5Body()],
  ['the fixture body on the APP route', 'APP', h5Body()],
  [
    'no identity, a long name masked as ***G',
    'H5',
    { ...h5Body({ display_name: '***G' }), real_identity: undefined },
  ],
  [
    'every optional field',
    'H5',
    h5Body({
      out_contract_code: 'A'.repeat(64),
      repayment_amount_limit: '999999999999999',
      repayment_day: 31,
      sub_appid: 'wx_sub_1',
      jump_info: { jump_appid: 'wxjump1' },
      ...trade({ description: '还款 repay', attach: 'a'.repeat(128), notify_url: 'https://p.example/n' }),
    }),
  ],
];

/** [why, kind, body, the field validation.ts reports]: each is refused by both. */
const REFUSED: [string, 'H5' | 'APP', Record<string, unknown>, string][] = [
  ['code with a dash (pattern)', 'H5', h5Body({ out_contract_code: 'LOAN-1' }), '/out_contract_code'],
  [
    'code of 65 characters (length)',
    'H5',
    h5Body({ out_contract_code: 'A'.repeat(65) }),
    '/out_contract_code',
  ],
  ['plan_id of 65 characters (length)', 'H5', h5Body({ plan_id: 'p'.repeat(65) }), '/plan_id'],
  [
    'passport identity (enum)',
    'H5',
    h5Body(identity({ identity_type: 'REAL_IDENTITY_TYPE_PASSPORT' })),
    '/real_identity/identity_type',
  ],
  [
    'identity_id of 17 digits (pattern)',
    'H5',
    h5Body(identity({ identity_id: PERSON.id.slice(0, 17) })),
    '/real_identity/identity_id',
  ],
  ['an unknown field', 'H5', h5Body({ foo: 1 }), '/foo'],
  [
    'contract_notify_url (we set it)',
    'H5',
    h5Body({ contract_notify_url: 'https://x.example/n' }),
    '/contract_notify_url',
  ],
  ['jump_info on APP', 'APP', h5Body({ jump_info: { jump_appid: 'wxjump1' } }), '/jump_info'],
  ['jump_info without jump_appid', 'H5', h5Body({ jump_info: {} }), '/jump_info/jump_appid'],
  [
    'display name not masked',
    'H5',
    { ...h5Body({ display_name: '丰*' }), real_identity: undefined },
    '/display_name',
  ],
  ['limit with a leading zero', 'H5', h5Body({ repayment_amount_limit: '0100' }), '/repayment_amount_limit'],
  ['limit as a number', 'H5', h5Body({ repayment_amount_limit: 10000 }), '/repayment_amount_limit'],
  ['repayment day 32', 'H5', h5Body({ repayment_day: 32 }), '/repayment_day'],
  ['sub_mchid with a letter', 'H5', h5Body({ sub_mchid: '10000a' }), '/sub_mchid'],
  ['emoji in a description', 'H5', h5Body(trade({ description: '还款😀' })), '/trade_info/description'],
  ['a newline in attach', 'H5', h5Body(trade({ attach: 'a\nb' })), '/trade_info/attach'],
  ['an http notify_url', 'H5', h5Body(trade({ notify_url: 'http://p.example/n' })), '/trade_info/notify_url'],
  ['a fractional deduct_amount', 'H5', h5Body(trade({ deduct_amount: 1.5 })), '/trade_info/deduct_amount'],
  ['a missing plan_id', 'H5', { ...h5Body(), plan_id: undefined }, '/plan_id'],
];

const route = (kind: 'H5' | 'APP') => (kind === 'H5' ? '/contracts/h5-presign' : '/contracts/app-presign');
// JSON has no undefined: send what a client would.
const wire = (body: Record<string, unknown>) => JSON.parse(JSON.stringify(body)) as unknown;

test('presign bodies validation.ts accepts, the document accepts', () => {
  for (const [why, kind, body] of ACCEPTED) {
    assert.doesNotThrow(() => validatePresign(kind, wire(body)), `validation.ts: ${why}`);
    assert.doesNotThrow(() => checkRequest('POST', route(kind), wire(body)), `document: ${why}`);
  }
});

test('presign bodies validation.ts refuses, the document refuses', () => {
  for (const [why, kind, body, field] of REFUSED) {
    assert.throws(
      () => validatePresign(kind, wire(body)),
      (e: unknown) => e instanceof ValidationFailed && e.errors.some((i) => i.field === field),
      `validation.ts refuses ${why} at ${field}`,
    );
    rejects(() => checkRequest('POST', route(kind), wire(body)), `document refuses ${why}`);
  }
});

test('terminate bodies terminate.ts accepts, the document accepts; and the same for refusals', async () => {
  // An empty store: a body that passes validation ends in CONTRACT_NOT_FOUND, a bad one in VALIDATION_FAILED.
  const deps = {
    store: new MemoryContractStore(),
    wechatpay: gatewayDouble({ call: () => assert.fail('WeChat Pay is never called') }),
    clock: () => T0,
  } as unknown as TerminateDeps;
  const documented = (body: unknown) => checkRequest('POST', '/contracts/LOAN1/terminate', body);
  for (const remark of ['用户已结清 / loan repaid', 'r'.repeat(128)]) {
    const body = { contract_termination_remark: remark };
    await assert.rejects(terminate(deps, 'LOAN1', body), ContractNotFound);
    assert.doesNotThrow(() => documented(body));
  }
  const refused: [string, unknown][] = [
    ['empty', { contract_termination_remark: '' }],
    ['too long', { contract_termination_remark: 'r'.repeat(129) }],
    ['emoji', { contract_termination_remark: '结清😀' }],
    ['a tab', { contract_termination_remark: 'a\tb' }],
    ['a number', { contract_termination_remark: 1 }],
    ['missing', {}],
    ['an unknown field', { contract_termination_remark: 'x', out_contract_code: 'LOAN1' }],
  ];
  for (const [why, body] of refused) {
    await assert.rejects(terminate(deps, 'LOAN1', body), ValidationFailed, `terminate.ts refuses ${why}`);
    rejects(() => documented(body), `document refuses ${why}`);
  }
  rejects(() => checkRequest('GET', '/contracts/LOAN1', {}), 'GET has no body');
  rejects(() => checkRequest('DELETE', '/contracts/LOAN1', {}), 'undocumented method');
});

test('booking and deduct bodies the repayment validation accepts, the document accepts; and the same for refusals', () => {
  const now = Date.parse('2026-12-01T12:00:00+08:00');
  const booking = (over: Record<string, unknown> = {}) => ({
    out_record_id: 'R1',
    repayment_amount: '5000',
    repayment_date: '2026-12-02',
    ...over,
  });
  const BOOK_PATH = '/contracts/LOAN1/repayments';
  const DEDUCT_PATH = '/repayments/R1/deduct';
  const all = {
    min_repayment_amount: '1000',
    sub_appid: 'wx_sub_1',
    description: '12月还款',
    auto_deduct: false,
  };
  for (const body of [booking(), booking(all), booking({ out_record_id: 'R'.repeat(32) })]) {
    assert.doesNotThrow(() => validateBooking(wire(body), now), JSON.stringify(body));
    assert.doesNotThrow(() => checkRequest('POST', BOOK_PATH, wire(body)), JSON.stringify(body));
  }
  const refusedBookings: [string, Record<string, unknown>][] = [
    ['an id with a dash', booking({ out_record_id: 'R-1' })],
    ['an id of 33 characters', booking({ out_record_id: 'R'.repeat(33) })],
    ['an amount as a number', booking({ repayment_amount: 5000 })],
    ['an amount with a leading zero', booking({ repayment_amount: '05000' })],
    ['a date with slashes', booking({ repayment_date: '2026/12/02' })],
    ['auto_deduct as a string', booking({ auto_deduct: 'yes' })],
    ['an emoji in the description', booking({ description: '还款😀' })],
    ['an unknown field', booking({ notify_url: 'https://x.example/n' })],
    ['no repayment_date', booking({ repayment_date: undefined })],
  ];
  for (const [why, body] of refusedBookings) {
    assert.throws(() => validateBooking(wire(body), now), ValidationFailed, `validation refuses ${why}`);
    rejects(() => checkRequest('POST', BOOK_PATH, wire(body)), `document refuses ${why}`);
  }
  for (const body of [{}, { out_trade_no: 'T1', deduct_amount: '100', description: '还款', attach: 'a' }]) {
    assert.doesNotThrow(() => validateDeduct(body));
    assert.doesNotThrow(() => checkRequest('POST', DEDUCT_PATH, body));
  }
  const refusedDeducts: [string, Record<string, unknown>][] = [
    ['an out_trade_no with an underscore', { out_trade_no: 'T_1' }],
    ['an amount as a number', { deduct_amount: 100 }],
    ['a tab in attach', { attach: 'a\tb' }],
    ['an emoji in attach', { attach: '😀' }],
    ['contract_id', { contract_id: 'CID1' }],
  ];
  for (const [why, body] of refusedDeducts) {
    assert.throws(() => validateDeduct(body), ValidationFailed, `validation refuses ${why}`);
    rejects(() => checkRequest('POST', DEDUCT_PATH, body), `document refuses ${why}`);
  }
});

// --- responses of real code --------------------------------------------------------------------------

function presignDeps(answer: unknown) {
  const wechatpay = gatewayDouble({
    encrypt: (plaintext) => `ENC(${plaintext.length})`,
    sign: async (request) => ({ request, url: `https://wx.example${request.path}`, body: '{}', headers: {} }),
    send: async () => ({
      status: 200,
      requestId: 'req-1',
      headers: new Headers(),
      body: Buffer.from(JSON.stringify(answer)),
      json: <T>() => answer as T,
    }),
  });
  const store = new MemoryContractStore();
  return {
    store,
    deps: presignTestDeps({ store, wechatpay, clock: () => T0 }),
  };
}

/** As functions/presign.ts answers: 201, or 200 with the replay header. */
async function presignResponse(kind: 'H5' | 'APP', answer: unknown, body = h5Body()) {
  const { store, deps } = presignDeps(answer);
  const first = await presign(deps, kind, body);
  const again = await presign(deps, kind, body);
  assert.equal(again.replayed, true);
  const record = store.items.get(String(body.out_contract_code)) as ContractRecord;
  return {
    created: json(201, first.result),
    replayed: json(200, again.result, { 'idempotent-replayed': 'true' }),
    record,
  };
}

test('presign 201 and replayed 200 (H5 and APP) as the code builds them match the document', async () => {
  const h5 = await presignResponse('H5', { redirect_url: 'http://127.0.0.1:3100/sign?token=t1' });
  check(PRESIGN_H5, 201, h5.created.headers, bodyOf(h5.created));
  check(PRESIGN_H5, 200, h5.replayed.headers, bodyOf(h5.replayed));
  const app = await presignResponse('APP', { presign_token: 'tok-1', redirect_service: 'svc' });
  check(PRESIGN_APP, 201, app.created.headers, bodyOf(app.created));
  check(PRESIGN_APP, 200, app.replayed.headers, bodyOf(app.replayed));
  const bare = await presignResponse('APP', { presign_token: 'tok-2' });
  check(PRESIGN_APP, 201, bare.created.headers, bodyOf(bare.created));

  const ok = bodyOf(h5.created);
  rejects(() => check(PRESIGN_H5, 200, h5.created.headers, ok), 'a 200 without Idempotent-Replayed');
  rejects(() => check(PRESIGN_H5, 201, h5.created.headers, { ...ok, state: 'SIGNED' }), 'state is PRESIGNED');
  rejects(
    () => check(PRESIGN_H5, 201, h5.created.headers, { ...ok, redirect_url: undefined }),
    'no redirect_url',
  );
  rejects(
    () => check(PRESIGN_H5, 201, h5.created.headers, { ...ok, expires_at: 'in 10 minutes' }),
    'date-time',
  );
  rejects(() => check(PRESIGN_APP, 201, h5.created.headers, ok), 'an H5 answer on the APP route');
  rejects(() => check(PRESIGN_H5, 201, { 'content-type': 'text/html' }, ok), 'JSON only');
  rejects(() => check(PRESIGN_H5, 418, h5.created.headers, ok), 'undocumented status');
  const error = bodyOf(errorResponse(SAMPLES.CONTRACT_CODE_USED));
  rejects(() => check(PRESIGN_H5, 409, h5.created.headers, { ...error, state: undefined }), 'state required');
  rejects(() => check(PRESIGN_H5, 409, h5.created.headers, { ...error, stack: 'Error: …' }), 'no stack');
  rejects(
    () => check(PRESIGN_H5, 409, h5.created.headers, bodyOf(errorResponse(SAMPLES.VALIDATION_FAILED))),
    'code per status',
  );
});

test('contract records as publicView returns them match the document; internals do not', async () => {
  const headers = json(200, {}).headers;
  const { record } = await presignResponse('H5', { redirect_url: 'http://127.0.0.1:3100/sign?token=t1' });
  check(GET, 200, headers, publicView(record));
  rejects(() => check(GET, 200, headers, record), 'request_hash and version are never returned');

  const facts = {
    out_contract_code: record.out_contract_code,
    contract_id: 'C1',
    openid: 'o-1',
    contract_signed_time: '2026-11-27T12:00:00+08:00',
  };
  const signed = applyFacts(
    record,
    { ...facts, contract_state: 'CONTRACT_STATE_EFFECTIVE' },
    'CALLBACK',
    '2026-11-27T04:01:00.000Z',
  );
  assert.ok(signed);
  check(GET, 200, headers, publicView(signed));
  rejects(() => check(TERMINATE, 200, headers, publicView(signed)), 'terminate answers TERMINATED');
  const terminated = applyFacts(
    signed,
    {
      ...facts,
      contract_state: 'CONTRACT_STATE_TERMINATED',
      contract_terminated_time: '2026-11-28T09:00:00+08:00',
      contract_terminated_mode: 'TERMINATION_MODE_BY_MERCHANT',
      contract_termination_remark: 'repaid',
    },
    'QUERY',
    '2026-11-28T01:00:00.000Z',
  );
  assert.ok(terminated);
  check(TERMINATE, 200, headers, publicView(terminated));
  const unknown = applyFacts(
    undefined,
    { ...facts, out_contract_code: 'NEW1', contract_state: 'CONTRACT_STATE_EFFECTIVE' },
    'CALLBACK',
    '2026-11-27T04:01:00.000Z',
  );
  assert.ok(unknown);
  check(GET, 200, headers, publicView(unknown));
  rejects(() => check(GET, 200, headers, { ...publicView(signed), state: 'ACTIVE' }), 'state enum');
});
