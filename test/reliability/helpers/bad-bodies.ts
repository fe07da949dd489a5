/**
 * The bad-input corpus: malformed presign requests, each with the JSON pointer its 400 must name ("" is the
 * whole body). `body` is sent as JSON; `raw` is sent byte for byte, for what JSON.stringify cannot produce.
 */
import { h5Body, PERSON, residentId, withIdentity } from '../../support/contracts/fixtures';

export interface BadBody {
  name: string;
  field: string;
  route?: 'h5' | 'app';
  body?: unknown;
  raw?: Buffer | string;
  /** The field when the same body arrives by direct invocation (already parsed, so no size limit applies). */
  directField?: string;
}

type Body = Record<string, unknown>;

const without = (key: string): Body => {
  const { [key]: _gone, ...rest } = h5Body();
  return rest;
};
const identityWithout = (key: string): Body => {
  const { [key]: _gone, ...rest } = (h5Body().real_identity ?? {}) as Body;
  return h5Body({ real_identity: rest });
};
const trade = (over: Body): Body =>
  h5Body({ trade_info: { out_trade_no: 'T2026112701', deduct_amount: 100, ...over } });
const notifyUrl = (url: unknown): Body => trade({ notify_url: url });
/** A valid body as JSON text with `tail` spliced in before its closing brace. */
const spliced = (tail: string): string => `${JSON.stringify(h5Body()).slice(0, -1)},${tail}}`;
/** The bytes of a valid body whose real_name is `bytes`, which need not be UTF-8. */
const withBytesAt = (marker: string, bytes: number[]): Buffer => {
  const [head = '', tail = ''] = JSON.stringify(withIdentity({ real_name: marker })).split(marker);
  return Buffer.concat([Buffer.from(head), Buffer.from(bytes), Buffer.from(tail)]);
};
const nested = (depth: number, leaf = '0'): string => `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;
const badCheckDigit = `${PERSON.id.slice(0, 17)}${PERSON.id.endsWith('1') ? '2' : '1'}`;
// 11010519900100004 has check character X; WeChat Pay and GB 11643 want it upper-case.
const lowerX = residentId('11010519900100004').toLowerCase();

export const BAD_BODIES: BadBody[] = [
  // Wrong types
  { name: 'appid is a number', field: '/appid', body: h5Body({ appid: 123 }) },
  { name: 'plan_id is a boolean', field: '/plan_id', body: h5Body({ plan_id: true }) },
  {
    name: 'out_contract_code is an object',
    field: '/out_contract_code',
    body: h5Body({ out_contract_code: {} }),
  },
  {
    name: 'repayment_amount_limit is a number',
    field: '/repayment_amount_limit',
    body: h5Body({ repayment_amount_limit: 10000 }),
  },
  { name: 'repayment_day is a string', field: '/repayment_day', body: h5Body({ repayment_day: '1' }) },
  { name: 'real_identity is a string', field: '/real_identity', body: h5Body({ real_identity: PERSON.id }) },
  {
    name: 'identity_id is a number',
    field: '/real_identity/identity_id',
    body: withIdentity({ identity_id: Number(PERSON.id.slice(0, 15)) }),
  },
  {
    name: 'deduct_amount is a string',
    field: '/trade_info/deduct_amount',
    body: trade({ deduct_amount: '100' }),
  },
  { name: 'jump_info is an array', field: '/jump_info', body: h5Body({ jump_info: ['wx1'] }) },
  { name: 'display_name is an array', field: '/display_name', body: h5Body({ display_name: ['**丰'] }) },
  // Missing fields
  { name: 'appid missing', field: '/appid', body: without('appid') },
  { name: 'plan_id missing', field: '/plan_id', body: without('plan_id') },
  { name: 'out_contract_code missing', field: '/out_contract_code', body: without('out_contract_code') },
  { name: 'display_name missing', field: '/display_name', body: without('display_name') },
  {
    name: 'repayment_amount_limit missing',
    field: '/repayment_amount_limit',
    body: without('repayment_amount_limit'),
  },
  {
    name: 'identity_type missing',
    field: '/real_identity/identity_type',
    body: identityWithout('identity_type'),
  },
  { name: 'identity_id missing', field: '/real_identity/identity_id', body: identityWithout('identity_id') },
  { name: 'real_name missing', field: '/real_identity/real_name', body: identityWithout('real_name') },
  {
    name: 'out_trade_no missing',
    field: '/trade_info/out_trade_no',
    body: h5Body({ trade_info: { deduct_amount: 1 } }),
  },
  { name: 'an empty object', field: '/appid', body: {} },
  // Overlong strings
  {
    name: 'out_contract_code of 65 characters',
    field: '/out_contract_code',
    body: h5Body({ out_contract_code: 'A'.repeat(65) }),
  },
  { name: 'appid of 33 characters', field: '/appid', body: h5Body({ appid: 'w'.repeat(33) }) },
  { name: 'plan_id of 65 characters', field: '/plan_id', body: h5Body({ plan_id: '1'.repeat(65) }) },
  {
    name: 'display_name of 65 characters',
    field: '/display_name',
    body: h5Body({ display_name: `${'*'.repeat(64)}丰` }),
  },
  {
    name: 'real_name of 65 characters',
    field: '/real_identity/real_name',
    body: withIdentity({ real_name: '张'.repeat(65) }),
  },
  { name: 'sub_mchid of 33 digits', field: '/sub_mchid', body: h5Body({ sub_mchid: '1'.repeat(33) }) },
  {
    name: 'description of 128 characters',
    field: '/trade_info/description',
    body: trade({ description: '还'.repeat(128) }),
  },
  { name: 'attach of 129 characters', field: '/trade_info/attach', body: trade({ attach: 'a'.repeat(129) }) },
  // Identity
  {
    name: 'ID number with a bad check digit',
    field: '/real_identity/identity_id',
    body: withIdentity({ identity_id: badCheckDigit }),
  },
  {
    name: 'ID number of 17 digits',
    field: '/real_identity/identity_id',
    body: withIdentity({ identity_id: PERSON.id.slice(0, 17) }),
  },
  {
    name: 'ID number with a lower-case x',
    field: '/real_identity/identity_id',
    body: withIdentity({ identity_id: lowerX }),
  },
  {
    name: 'ID number born on 30 February',
    field: '/real_identity/identity_id',
    body: withIdentity({ identity_id: residentId('11010519490230002') }),
  },
  {
    name: 'identity_type INVALID',
    field: '/real_identity/identity_type',
    body: withIdentity({ identity_type: 'REAL_IDENTITY_TYPE_INVALID' }),
  },
  { name: 'blank real_name', field: '/real_identity/real_name', body: withIdentity({ real_name: '   ' }) },
  // display_name must be WeChat Pay's mask of the real name
  {
    name: 'unmasked display_name (the real name)',
    field: '/display_name',
    body: h5Body({ display_name: PERSON.name }),
  },
  {
    name: 'display_name masking too little',
    field: '/display_name',
    body: h5Body({ display_name: '*三丰' }),
  },
  {
    name: "display_name masking another person's name",
    field: '/display_name',
    body: h5Body({ display_name: '**张' }),
  },
  { name: 'display_name without any *', field: '/display_name', body: h5Body({ display_name: '丰' }) },
  { name: 'display_name ending in a space', field: '/display_name', body: h5Body({ display_name: '** ' }) },
  { name: 'empty display_name', field: '/display_name', body: h5Body({ display_name: '' }) },
  // Amounts
  {
    name: 'negative repayment_amount_limit',
    field: '/repayment_amount_limit',
    body: h5Body({ repayment_amount_limit: '-100' }),
  },
  {
    name: 'fractional repayment_amount_limit',
    field: '/repayment_amount_limit',
    body: h5Body({ repayment_amount_limit: '10.5' }),
  },
  {
    name: 'zero repayment_amount_limit',
    field: '/repayment_amount_limit',
    body: h5Body({ repayment_amount_limit: '0' }),
  },
  {
    name: 'repayment_amount_limit in exponent form',
    field: '/repayment_amount_limit',
    body: h5Body({ repayment_amount_limit: '1e5' }),
  },
  {
    name: 'repayment_amount_limit with a leading zero',
    field: '/repayment_amount_limit',
    body: h5Body({ repayment_amount_limit: '0100' }),
  },
  {
    name: 'repayment_amount_limit of 16 digits',
    field: '/repayment_amount_limit',
    body: h5Body({ repayment_amount_limit: '1'.repeat(16) }),
  },
  { name: 'negative deduct_amount', field: '/trade_info/deduct_amount', body: trade({ deduct_amount: -1 }) },
  {
    name: 'fractional deduct_amount',
    field: '/trade_info/deduct_amount',
    body: trade({ deduct_amount: 1.5 }),
  },
  { name: 'zero deduct_amount', field: '/trade_info/deduct_amount', body: trade({ deduct_amount: 0 }) },
  {
    name: 'deduct_amount beyond a safe integer',
    field: '/trade_info/deduct_amount',
    body: trade({ deduct_amount: 1e20 }),
  },
  {
    name: 'deduct_amount above repayment_amount_limit',
    field: '/trade_info/deduct_amount',
    body: trade({ deduct_amount: 10001 }),
  },
  // repayment_day
  { name: 'repayment_day 0', field: '/repayment_day', body: h5Body({ repayment_day: 0 }) },
  { name: 'repayment_day 32', field: '/repayment_day', body: h5Body({ repayment_day: 32 }) },
  { name: 'repayment_day 1.5', field: '/repayment_day', body: h5Body({ repayment_day: 1.5 }) },
  { name: 'repayment_day -1', field: '/repayment_day', body: h5Body({ repayment_day: -1 }) },
  { name: 'repayment_day 1e400 (Infinity)', field: '/repayment_day', raw: spliced('"repayment_day":1e400') },
  // URLs
  {
    name: 'http notify_url',
    field: '/trade_info/notify_url',
    body: notifyUrl('http://pay.example.com/notify'),
  },
  {
    name: 'notify_url with a query string',
    field: '/trade_info/notify_url',
    body: notifyUrl('https://pay.example.com/n?x=1'),
  },
  {
    name: 'notify_url with an empty query',
    field: '/trade_info/notify_url',
    body: notifyUrl('https://pay.example.com/n?'),
  },
  {
    name: 'notify_url with a fragment',
    field: '/trade_info/notify_url',
    body: notifyUrl('https://pay.example.com/n#x'),
  },
  { name: 'ftp notify_url', field: '/trade_info/notify_url', body: notifyUrl('ftp://pay.example.com/n') },
  {
    name: 'notify_url with credentials',
    field: '/trade_info/notify_url',
    body: notifyUrl('https://u:p@pay.example.com/n'),
  },
  {
    name: 'notify_url that is not a URL',
    field: '/trade_info/notify_url',
    body: notifyUrl('pay.example.com/n'),
  },
  {
    name: 'notify_url of 257 characters',
    field: '/trade_info/notify_url',
    body: notifyUrl(`https://pay.example.com/${'n'.repeat(233)}`),
  },
  // Unknown fields
  {
    name: 'contract_notify_url (the service sets it)',
    field: '/contract_notify_url',
    body: h5Body({ contract_notify_url: 'https://evil.example/n' }),
  },
  { name: 'an unknown top-level field', field: '/surprise', body: h5Body({ surprise: 1 }) },
  {
    name: 'an unknown field in real_identity',
    field: '/real_identity/extra',
    body: withIdentity({ extra: 'x' }),
  },
  { name: 'an unknown field in trade_info', field: '/trade_info/extra', body: trade({ extra: 'x' }) },
  {
    name: 'jump_info on the APP route',
    field: '/jump_info',
    route: 'app',
    body: h5Body({ jump_info: { jump_appid: 'wx1' } }),
  },
  { name: 'a __proto__ member', field: '/__proto__', raw: spliced('"__proto__":{"appid":"wx1"}') },
  // Deep nesting and size
  { name: '8,000 nested arrays as the body', field: '', raw: nested(8000) },
  { name: '10,000 nested arrays as the body', field: '', raw: nested(10_000) },
  { name: 'appid as 7,000 nested arrays', field: '/appid', raw: spliced(`"appid":${nested(7000, '"wx1"')}`) },
  {
    name: 'real_identity nesting 1,500 objects',
    field: '/real_identity/a',
    raw: spliced(`"real_identity":${'{"a":'.repeat(1500)}1${'}'.repeat(1500)}`),
  },
  {
    name: 'a 1 MB body',
    field: '',
    directField: '/trade_info/description',
    body: trade({ description: 'x'.repeat(1024 * 1024) }),
  },
  {
    name: 'a body one byte over 16 KiB',
    field: '',
    raw: spliced(`"pad":"${'x'.repeat(16 * 1024)}"`).slice(0, 16 * 1024 + 1),
  },
  // Encoding
  { name: 'invalid UTF-8 in real_name', field: '', raw: withBytesAt('RNAME', [0xc3, 0x28]) },
  {
    name: 'an overlong UTF-8 encoding',
    field: '',
    raw: Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]),
  },
  { name: 'UTF-16 instead of UTF-8', field: '', raw: Buffer.from(JSON.stringify(h5Body()), 'utf16le') },
  {
    name: 'an unpaired surrogate in real_name',
    field: '/real_identity/real_name',
    raw: JSON.stringify(withIdentity({ real_name: 'RNAME' })).replace('RNAME', '张\\ud800'),
  },
  {
    name: 'emoji in real_name',
    field: '/real_identity/real_name',
    body: withIdentity({ real_name: '张三😀' }),
  },
  { name: 'emoji in display_name', field: '/display_name', body: h5Body({ display_name: '**😀' }) },
  { name: 'emoji in description', field: '/trade_info/description', body: trade({ description: '还款😀' }) },
  {
    name: 'emoji in out_contract_code',
    field: '/out_contract_code',
    body: h5Body({ out_contract_code: 'A😀' }),
  },
  { name: 'a control character in attach', field: '/trade_info/attach', body: trade({ attach: 'a\u0007b' }) },
  { name: 'a NUL in display_name', field: '/display_name', body: h5Body({ display_name: '**\u0000' }) },
  // Null values
  { name: 'appid null', field: '/appid', body: h5Body({ appid: null }) },
  { name: 'real_identity null', field: '/real_identity', body: h5Body({ real_identity: null }) },
  { name: 'repayment_day null', field: '/repayment_day', body: h5Body({ repayment_day: null }) },
  { name: 'notify_url null', field: '/trade_info/notify_url', body: notifyUrl(null) },
  // Duplicate keys: JSON.parse keeps the last; both values here are wrong, so any reading refuses it
  {
    name: 'repayment_day twice (0, then 32)',
    field: '/repayment_day',
    raw: spliced('"repayment_day":0,"repayment_day":32'),
  },
  // Not a JSON object
  { name: 'a top-level array', field: '', body: [h5Body()] },
  { name: 'a top-level string', field: '', body: 'h5-presign' },
  { name: 'a top-level number', field: '', body: 42 },
  { name: 'a top-level null', field: '', raw: 'null' },
  { name: 'a top-level boolean', field: '', raw: 'true' },
  { name: 'an empty body', field: '', raw: '' },
  { name: 'whitespace only', field: '', raw: ' \n\t ' },
  // Not JSON at all
  { name: 'trailing garbage', field: '', raw: `${JSON.stringify(h5Body())} x` },
  { name: 'a second JSON value after the body', field: '', raw: `${JSON.stringify(h5Body())}{}` },
  { name: 'a truncated body', field: '', raw: JSON.stringify(h5Body()).slice(0, -1) },
  { name: 'NaN as a value', field: '', raw: spliced('"repayment_day":NaN') },
  { name: 'single-quoted JSON', field: '', raw: JSON.stringify(h5Body()).replaceAll('"', "'") },
  { name: 'a comment in the JSON', field: '', raw: `/* c */${JSON.stringify(h5Body())}` },
];
