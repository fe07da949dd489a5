// zod/mini, not zod: the same rules load in 0.1 ms instead of 15 ms (bench/README.md, cold load).
import * as z from 'zod/mini';
import { type FieldIssue, ValidationFailed } from '../errors';
import { maskName, residentIdIssue } from './identity';
import type { PresignKind } from './model';

/**
 * Validation of our presign API body: WeChat Pay's h5-presign fields (docs/protocol.md, "H5 and APP presign")
 * minus `contract_notify_url` (we set it), with `real_identity.identity_id` / `real_name` in plaintext (we
 * encrypt them). Every rule WeChat Pay documents is checked here so a bad request never burns an
 * `out_contract_code`.
 */

// WeChat Pay accepts only 1–3-byte UTF-8 code points: no emoji or other supplementary-plane characters.
const BMP_ONLY = /^[^\u{10000}-\u{10FFFF}]*$/u;
// A lone surrogate (JSON "\ud800") is not a character at all: UTF-8 cannot carry it, WeChat Pay refuses it.
const NO_LONE_SURROGATE = /^[^\u{D800}-\u{DFFF}]*$/u;
const NO_CONTROL = /^[^\p{Cc}]*$/u;

export const text = (max: number) =>
  z
    .string()
    .check(
      z.minLength(1, 'must not be empty'),
      z.maxLength(max, `must be at most ${max} characters`),
      z.regex(BMP_ONLY, 'must not contain emoji or other 4-byte UTF-8 characters (WeChat Pay rejects them)'),
      z.regex(NO_LONE_SURROGATE, 'must not contain unpaired UTF-16 surrogates (not valid Unicode text)'),
      z.regex(NO_CONTROL, 'must not contain control characters'),
    );

export const token = (max: number, pattern: RegExp, rule: string) =>
  z
    .string()
    .check(
      z.minLength(1, 'must not be empty'),
      z.maxLength(max, `must be at most ${max} characters`),
      z.regex(pattern, rule),
    );

const httpsUrl = z.string().check(
  z.maxLength(256, 'must be at most 256 characters'),
  z.refine((v) => {
    try {
      const u = new URL(v);
      // `https://x/?` and `https://x/#f` parse with an empty search; WeChat Pay refuses any '?' or '#'.
      return u.protocol === 'https:' && !/[?#]/.test(v) && !u.username && !u.password;
    } catch {
      return false;
    }
  }, 'must be an absolute https URL without query string, fragment or credentials'),
);

// At most 15 digits: WeChat Pay's query answers carry the limit as a JSON integer, which must stay exact.
export const fen = z
  .string()
  .check(
    z.regex(
      /^[1-9]\d{0,14}$/,
      'must be a positive integer amount in fen of at most 15 digits, as a string like "10000"',
    ),
  );

const integer = (what: string) =>
  z.number({ error: `must be ${what}` }).check(z.refine((n) => Number.isInteger(n), `must be ${what}`));

const realIdentity = z.strictObject({
  identity_type: z.literal('REAL_IDENTITY_TYPE_ID_CARD', {
    error: 'must be REAL_IDENTITY_TYPE_ID_CARD (the only identity type WeChat Pay verifies)',
  }),
  identity_id: z.string().check(
    z.refine((id) => residentIdIssue(id) === undefined, {
      error: (issue) => residentIdIssue(String(issue.input)),
    }),
  ),
  // OAEP with a 2048-bit key carries at most 214 bytes; a name is far shorter in practice.
  real_name: text(64).check(
    z.refine((v) => v.trim() !== '', 'must not be blank'),
    z.refine((v) => Buffer.byteLength(v) <= 214, 'must be at most 214 bytes in UTF-8'),
  ),
});

const tradeInfo = z.strictObject({
  out_trade_no: token(32, /^[0-9A-Za-z_\-|*]+$/, 'may contain only letters, digits and _-|*'),
  deduct_amount: integer('an integer amount in fen').check(
    z.positive('must be a positive amount in fen'),
    z.maximum(Number.MAX_SAFE_INTEGER, 'is too large'),
  ),
  description: z.optional(text(127)),
  attach: z.optional(text(128)),
  notify_url: z.optional(httpsUrl),
});

const common = {
  appid: token(32, /^[0-9A-Za-z_]+$/, 'may contain only letters, digits and _'),
  plan_id: token(64, /^[0-9A-Za-z_-]+$/, 'may contain only letters, digits, _ and -'),
  out_contract_code: token(64, /^[0-9A-Za-z]+$/, 'may contain only letters and digits (WeChat Pay rule)'),
  // A one-character name has nothing to hide but its only character: its mask is the name itself.
  display_name: text(64).check(
    z.regex(
      /^\*{0,3}[^*\s]$/u,
      'must be masked as WeChat Pay documents: every character but the last replaced by * (a one-character name stays as it is), or *** and the last character for names over 4 characters',
    ),
  ),
  repayment_day: z.optional(
    integer('an integer day of month').check(
      z.minimum(1, 'must be between 1 and 31'),
      z.maximum(31, 'must be between 1 and 31'),
    ),
  ),
  repayment_amount_limit: fen,
  sub_mchid: z.optional(token(32, /^\d+$/, 'must be digits (a WeChat Pay merchant id)')),
  sub_appid: z.optional(token(32, /^[0-9A-Za-z_]+$/, 'may contain only letters, digits and _')),
  real_identity: z.optional(realIdentity),
  trade_info: z.optional(tradeInfo),
};

const h5Schema = z.strictObject({
  ...common,
  jump_info: z.optional(
    z.strictObject({ jump_appid: token(32, /^[0-9A-Za-z_]+$/, 'may contain only letters, digits and _') }),
  ),
});
const appSchema = z.strictObject(common);

export type H5PresignInput = z.infer<typeof h5Schema>;
export type PresignInput = H5PresignInput;

const pointer = (path: readonly PropertyKey[]): string =>
  path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

function issues(error: { issues: readonly z.core.$ZodIssue[] }): FieldIssue[] {
  return error.issues.flatMap((issue): FieldIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: pointer([...issue.path, key]),
        issue:
          key === 'contract_notify_url'
            ? 'must not be sent: the service sets it to WECHATPAY_NOTIFY_URL'
            : 'is not a known field',
      }));
    }
    return [{ field: pointer(issue.path), issue: issue.message }];
  });
}

const typeError = (issue: { code: string; input?: unknown; expected?: unknown }): string | undefined => {
  if (issue.code !== 'invalid_type') return undefined;
  if (issue.input === undefined) return 'is required';
  if (issue.input === null) return 'must not be null (omit the field instead)';
  return `must be ${issue.expected === 'object' ? 'an object' : `a ${String(issue.expected)}`}`;
};

/** Parses with `schema` or throws `ValidationFailed` listing every bad field as a JSON pointer. */
export function parseOrThrow<T extends z.ZodMiniType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body, { error: typeError });
  if (!result.success) throw new ValidationFailed(issues(result.error));
  return result.data;
}

/** Returns the validated input or throws `ValidationFailed` listing every bad field as a JSON pointer. */
export function validatePresign(kind: PresignKind, body: unknown): PresignInput {
  const schema = kind === 'H5' ? h5Schema : appSchema;
  const result = schema.safeParse(body, { error: typeError });
  const found = result.success ? [] : issues(result.error);
  const input = result.success ? result.data : undefined;
  if (input?.real_identity && input.display_name !== maskName(input.real_identity.real_name)) {
    found.push({ field: '/display_name', issue: 'must be the masked form of real_identity.real_name' });
  }
  // A deduction above the contract's own cap is refused by WeChat Pay, which would burn the code.
  if (input?.trade_info && BigInt(input.trade_info.deduct_amount) > BigInt(input.repayment_amount_limit)) {
    found.push({ field: '/trade_info/deduct_amount', issue: 'must not exceed repayment_amount_limit' });
  }
  if (found.length > 0 || !input) throw new ValidationFailed(found);
  return input;
}
