import { paramError } from './errors';
import { isObj, jsonType, NO_SPACE, notifyUrl, type Obj, onlyKeys, str } from './fields';

/*
 * Field rules of the booking and deduct bodies (see docs/protocol.md). Amounts are fen as decimal strings;
 * WeChat Pay documents no format beyond "string", so the simulator holds them to what the service sends:
 * a positive integer without leading zeros, at most 15 digits.
 */

export const RECORD_ID = /^[0-9A-Za-z]{1,32}$/;
export const TRADE_NO = /^[0-9A-Za-z_\-|*]{1,32}$/;
const AMOUNT = /^[1-9]\d{0,14}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export interface ScheduleInput {
  contract_id: string;
  appid: string;
  openid: string;
  out_record_id: string;
  sub_mchid: string;
  sub_appid?: string;
  repayment_amount: string;
  min_repayment_amount?: string;
  repayment_date: string;
}

export interface DeductInput {
  contract_id: string;
  out_trade_no: string;
  out_record_id: string;
  deduct_amount: string;
  notify_url: string;
  description: string;
  attach?: string;
}

const id = (o: Obj, key: string, base: string, max: number) =>
  str(o, key, base, { required: true, max, pattern: NO_SPACE, patternIssue: '不能包含空白字符' });

const recordId = (o: Obj, base: string) =>
  str(o, 'out_record_id', base, {
    required: true,
    max: 32,
    pattern: RECORD_ID,
    patternIssue: '只能是数字和大小写字母',
  });

function amount(o: Obj, key: string, base: string, required: boolean): string | undefined {
  const rule = { max: 15, pattern: AMOUNT, patternIssue: '应为以分为单位的正整数字符串(不能有前导0)' };
  return required ? str(o, key, base, { ...rule, required: true }) : str(o, key, base, rule);
}

/** A real calendar date: `2026-02-30` is refused, not rolled over. */
function date(o: Obj, key: string, base: string): string {
  const value = str(o, key, base, {
    required: true,
    max: 10,
    pattern: DATE,
    patternIssue: '格式应为yyyy-MM-dd',
  });
  if (new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value) {
    throw paramError(`${base}/${key}`, '不是有效的日期', value);
  }
  return value;
}

function onlyItem(body: Obj): Obj {
  const items = body.schedule_items;
  if (items === undefined) throw paramError('/schedule_items', '缺少必填字段');
  if (!Array.isArray(items)) throw paramError('/schedule_items', `应为array类型，实际为${jsonType(items)}`);
  if (items.length !== 1) {
    throw paramError('/schedule_items', `目前仅支持1个预约还款项，实际为${items.length}个`);
  }
  const [item] = items as unknown[];
  if (!isObj(item)) throw paramError('/schedule_items/0', `应为object类型，实际为${jsonType(item)}`);
  return item;
}

export function validateSchedule(body: Obj): ScheduleInput {
  onlyKeys(body, '', ['contract_id', 'appid', 'openid', 'schedule_items']);
  const top = {
    contract_id: id(body, 'contract_id', '', 64),
    appid: id(body, 'appid', '', 32),
    openid: id(body, 'openid', '', 128),
  };
  const item = onlyItem(body);
  const base = '/schedule_items/0';
  onlyKeys(item, base, [
    'out_record_id',
    'sub_mchid',
    'sub_appid',
    'repayment_amount',
    'min_repayment_amount',
    'repayment_date',
  ]);
  const input: ScheduleInput = {
    ...top,
    out_record_id: recordId(item, base),
    sub_mchid: id(item, 'sub_mchid', base, 32),
    repayment_amount: amount(item, 'repayment_amount', base, true) ?? '',
    repayment_date: date(item, 'repayment_date', base),
  };
  const subAppid = str(item, 'sub_appid', base, {
    max: 32,
    pattern: NO_SPACE,
    patternIssue: '不能包含空白字符',
  });
  if (subAppid !== undefined) input.sub_appid = subAppid;
  const min = amount(item, 'min_repayment_amount', base, false);
  if (min !== undefined) input.min_repayment_amount = min;
  return input;
}

export function validateDeduct(body: Obj): DeductInput {
  onlyKeys(body, '', [
    'contract_id',
    'out_trade_no',
    'out_record_id',
    'deduct_amount',
    'notify_url',
    'description',
    'attach',
  ]);
  const input: DeductInput = {
    contract_id: id(body, 'contract_id', '', 64),
    out_trade_no: str(body, 'out_trade_no', '', {
      required: true,
      max: 32,
      pattern: TRADE_NO,
      patternIssue: '只能是数字、大小写字母或_-|*',
    }),
    out_record_id: recordId(body, ''),
    deduct_amount: amount(body, 'deduct_amount', '', true) ?? '',
    notify_url: notifyUrl(body, 'notify_url', '', true) ?? '',
    description: str(body, 'description', '', { required: true, max: 127 }),
  };
  const attach = str(body, 'attach', '', { max: 128 });
  if (attach !== undefined) input.attach = attach;
  return input;
}
