import type { FieldIssue } from '../errors';
import type { CommandName } from './catalogue';
import { isObject, type MessageLabels } from './message';

/**
 * The one outcome event of a command taken by queue or by rule: `CommandSucceeded` or `CommandFailed`
 * (docs/events/ holds their JSON Schemas). Built from allow-lists: a command's body holds personal data (a
 * presign's real_name and identity_id), so nothing of it is ever copied, only the fields named here.
 */
export const COMMAND_EVENT_TYPES = ['CommandSucceeded', 'CommandFailed'] as const;
export type CommandEventType = (typeof COMMAND_EVENT_TYPES)[number];

/** What a success reports: the state reached, and what the requester needs next. */
export interface CommandResult {
  state?: string;
  /** Presign (H5): the signing page's link for the user; short-lived and single-use. */
  redirect_url?: string;
  /** Presign (APP): the token the app opens WeChat's signing with; short-lived and single-use. */
  presign_token?: string;
  expires_at?: string;
  contract_id?: string;
  repayment_date?: string;
  /** Deduct: the booking's latest order. */
  out_trade_no?: string;
  order_state?: string;
}

export interface CommandEventDetail {
  /** The same for every delivery of one message: the rule's EventBridge event id, or else the SQS message id. */
  event_id: string;
  /** Absent only when the message named no command this service takes. */
  command?: CommandName;
  correlation_id?: string;
  out_contract_code?: string;
  out_record_id?: string;
  result?: CommandResult;
  /** The PascalCase error name and, for a refused body, each failing field with its rule (never its value). */
  error?: { name: string; fields?: FieldIssue[] };
  occurred_at: string;
}

export interface CommandEvent {
  type: CommandEventType;
  detail: CommandEventDetail;
}

export const isCommandEvent = (event: { type: string }): event is CommandEvent =>
  (COMMAND_EVENT_TYPES as readonly string[]).includes(event.type);

/** Which fields of the owning function's answer each command reports. */
const RESULT_FIELDS: Record<CommandName, readonly (keyof CommandResult)[]> = {
  PresignRequested: ['state', 'redirect_url', 'expires_at'],
  AppPresignRequested: ['state', 'presign_token', 'expires_at'],
  TerminateRequested: ['state', 'contract_id'],
  SyncRequested: ['state', 'contract_id'],
  RepaymentBookingRequested: ['state', 'repayment_date'],
  DeductRequested: ['state', 'out_trade_no', 'order_state'],
};

export function succeeded(
  labels: MessageLabels & { command: CommandName },
  eventId: string,
  answer: Record<string, unknown>,
  now: string,
): CommandEvent {
  // A booking's view lists its orders, oldest first; the latest is the one this deduct asked for or replayed.
  const orders = Array.isArray(answer.orders) ? (answer.orders as unknown[]) : [];
  const latest = orders.at(-1);
  const source = { ...answer, ...(isObject(latest) ? pick(latest, ['out_trade_no', 'order_state']) : {}) };
  return {
    type: 'CommandSucceeded',
    detail: {
      ...header(labels, eventId),
      result: pick(source, RESULT_FIELDS[labels.command]),
      occurred_at: now,
    },
  };
}

export function failed(
  labels: MessageLabels,
  eventId: string,
  error: { name: string; fields?: FieldIssue[] },
  now: string,
): CommandEvent {
  const fields = (error.fields ?? []).map(({ field, issue }) => ({ field, issue }));
  return {
    type: 'CommandFailed',
    detail: {
      ...header(labels, eventId),
      error: { name: error.name, ...(fields.length > 0 ? { fields } : {}) },
      occurred_at: now,
    },
  };
}

function header(labels: MessageLabels, eventId: string) {
  return {
    event_id: eventId,
    ...(labels.command ? { command: labels.command } : {}),
    ...(labels.correlationId ? { correlation_id: labels.correlationId } : {}),
    ...labels.keys,
  };
}

/** The listed fields that hold text, and nothing else. */
function pick<K extends string>(
  from: Record<string, unknown>,
  keys: readonly K[],
): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = from[key];
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}
