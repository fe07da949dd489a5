import { paramError } from './errors';

/*
 * Field rules shared by every simulated endpoint. Like WeChat Pay, the first problem found is reported, as
 * PARAM_ERROR with a JSON pointer. Lengths count characters.
 */

export type Obj = Record<string, unknown>;
export const NO_SPACE = /^\S+$/;

export const pointer = (base: string, key: string) =>
  `${base}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Strict UTF-8 JSON object with no `null` anywhere and only 1–3-byte UTF-8 characters. */
export function parseJsonObject(body: Buffer): Obj {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw paramError('/', '请求体不是合法的UTF-8编码');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw paramError('/', `请求体不是合法的JSON: ${(err as Error).message}`);
  }
  if (!isObj(value)) throw paramError('/', '请求体必须是JSON对象');
  rejectNullsAndWideChars(value, '');
  return value;
}

function rejectNullsAndWideChars(value: unknown, at: string): void {
  if (value === null) throw paramError(at, '不允许为null，不需要的字段请省略');
  if (typeof value === 'string' && /[\uD800-\uDFFF]/.test(value)) {
    throw paramError(at, '包含4字节UTF-8字符(如emoji)，不支持');
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) rejectNullsAndWideChars(v, `${at}/${i}`);
  }
  if (isObj(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (/[\uD800-\uDFFF]/.test(k)) throw paramError(pointer(at, k), '字段名包含4字节UTF-8字符');
      rejectNullsAndWideChars(v, pointer(at, k));
    }
  }
}

export function onlyKeys(obj: Obj, base: string, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw paramError(pointer(base, key), '不支持的字段');
  }
}

export interface StrRule {
  max: number;
  min?: number;
  pattern?: RegExp;
  patternIssue?: string;
  /** Do not echo the value (encrypted fields). */
  secret?: boolean;
}

export function str(obj: Obj, key: string, base: string, rule: StrRule & { required: true }): string;
export function str(
  obj: Obj,
  key: string,
  base: string,
  rule: StrRule & { required?: false },
): string | undefined;
export function str(
  obj: Obj,
  key: string,
  base: string,
  rule: StrRule & { required?: boolean },
): string | undefined {
  const field = pointer(base, key);
  const value = obj[key];
  const shown = rule.secret ? undefined : value;
  if (value === undefined) {
    if (rule.required) throw paramError(field, '缺少必填字段');
    return undefined;
  }
  if (typeof value !== 'string') throw paramError(field, `应为string类型，实际为${jsonType(value)}`, shown);
  const length = Array.from(value).length;
  if (length < (rule.min ?? 1)) throw paramError(field, `长度不能少于${rule.min ?? 1}个字符`, shown);
  if (length > rule.max) throw paramError(field, `长度不能超过${rule.max}个字符`, shown);
  if (rule.pattern && !rule.pattern.test(value)) {
    throw paramError(field, rule.patternIssue ?? `格式不正确(${rule.pattern.source})`, shown);
  }
  return value;
}

export function int(
  obj: Obj,
  key: string,
  base: string,
  rule: { required: boolean; min: number; max: number },
) {
  const field = pointer(base, key);
  const value = obj[key];
  if (value === undefined) {
    if (rule.required) throw paramError(field, '缺少必填字段');
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw paramError(field, `应为integer类型，实际为${jsonType(value)}`, value);
  }
  if (value < rule.min || value > rule.max)
    throw paramError(field, `取值须在${rule.min}到${rule.max}之间`, value);
  return value;
}

export function obj(parent: Obj, key: string, base: string): Obj | undefined {
  const value = parent[key];
  if (value === undefined) return undefined;
  if (!isObj(value)) throw paramError(pointer(base, key), `应为object类型，实际为${jsonType(value)}`);
  return value;
}

export function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** HTTPS, no query string; plain http only to loopback so that local stacks can receive callbacks. */
export function notifyUrl(o: Obj, key: string, base: string, required: boolean): string | undefined {
  const value = required ? str(o, key, base, { required: true, max: 256 }) : str(o, key, base, { max: 256 });
  if (value === undefined) return undefined;
  const field = pointer(base, key);
  if (value.includes('?')) throw paramError(field, '通知地址不能携带查询参数', value);
  if (value.includes('#')) throw paramError(field, '通知地址不能携带片段(#)', value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw paramError(field, '不是合法的URL', value);
  }
  const ok = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  if (!ok) throw paramError(field, '必须是HTTPS地址(模拟器另接受http://127.0.0.1或localhost)', value);
  return value;
}
