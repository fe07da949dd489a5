import type { FieldIssue } from '../errors';
import { COMMAND_NAMES, COMMANDS, type CommandName, isCommandName, type NaturalKey } from './catalogue';

/**
 * One message of the command queue: `{"command", "body", "correlation_id"?}`, and `event_id` when an EventBridge
 * rule built it from an event (the event's `id`). The rules leave `correlation_id` inside `body` (the event's
 * `detail`); it is lifted out here, so the owning function gets exactly what an EventBridge target would.
 */
export interface CommandMessage {
  command: CommandName;
  /** The HTTP route's body plus its path parameters, without `correlation_id`. */
  body: Record<string, unknown>;
  correlationId?: string;
  eventId?: string;
}

/** What a message names of itself, valid or not: only the parts that passed their rule, for its outcome event. */
export interface MessageLabels {
  command?: CommandName;
  correlationId?: string;
  eventId?: string;
  keys: Partial<Record<NaturalKey, string>>;
}

export type ParsedMessage =
  | { ok: true; message: CommandMessage; labels: MessageLabels }
  | { ok: false; issues: FieldIssue[]; labels: MessageLabels };

/** Caller-chosen, echoed on the outcome: short and printable, so it is safe in a log line and an event. */
export const CORRELATION_ID = /^[0-9A-Za-z._:-]{1,128}$/;
export const CORRELATION_ID_RULE = 'must be 1 to 128 letters, digits, ".", "_", ":" or "-"';

/**
 * The natural keys' own rules, the routes' path parameters (the functions check them there too); a key that breaks
 * its rule is left off the outcome.
 */
export const KEY_RULES: Record<NaturalKey, RegExp> = {
  out_contract_code: /^[0-9A-Za-z]{1,64}$/,
  out_record_id: /^[0-9A-Za-z]{1,32}$/,
};

const FIELDS = ['command', 'body', 'correlation_id', 'event_id'];
/** At most this many of the caller's keys are named in a refusal, each cut to this many characters. */
const MAX_KEYS_NAMED = 20;
const MAX_KEY_CHARS = 64;

/**
 * The keys a refusal may name, and how many more it leaves out: a key is the caller's text, so a refusal never
 * grows with what the caller sent.
 */
export function nameable(keys: readonly string[]): { named: string[]; unnamed: number } {
  return {
    named: keys.slice(0, MAX_KEYS_NAMED).map((key) => key.slice(0, MAX_KEY_CHARS)),
    unnamed: Math.max(0, keys.length - MAX_KEYS_NAMED),
  };
}

/** Reads one message body; its refusals name fields and rules, never a value. */
export function parseMessage(text: string): ParsedMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the text, which may hold a name or an ID number.
    return { ok: false, issues: [{ field: '', issue: 'is not JSON' }], labels: { keys: {} } };
  }
  if (!isObject(parsed)) {
    return { ok: false, issues: [{ field: '', issue: 'must be a JSON object' }], labels: { keys: {} } };
  }
  const issues: FieldIssue[] = nameable(Object.keys(parsed).filter((key) => !FIELDS.includes(key))).named.map(
    (key) => ({ field: `/${key}`, issue: 'is not a field of a command message' }),
  );
  const { command, body, correlation_id: outer, event_id: eventId } = parsed;
  const labels: MessageLabels = { keys: {} };
  if (isCommandName(command)) labels.command = command;
  else issues.push({ field: '/command', issue: `must be one of ${COMMAND_NAMES.join(', ')}` });
  if (!isObject(body)) issues.push({ field: '/body', issue: 'must be a JSON object' });
  const { correlation_id: inner, ...fields } = isObject(body) ? body : {};
  const correlationId = outer ?? inner;
  if (outer !== undefined && inner !== undefined && outer !== inner) {
    issues.push({ field: '/body/correlation_id', issue: 'differs from /correlation_id; give one of them' });
  } else if (correlationId !== undefined) {
    if (isToken(correlationId)) labels.correlationId = correlationId;
    else
      issues.push({
        field: outer === undefined ? '/body/correlation_id' : '/correlation_id',
        issue: CORRELATION_ID_RULE,
      });
  }
  if (eventId !== undefined) {
    if (isToken(eventId)) labels.eventId = eventId;
    else issues.push({ field: '/event_id', issue: CORRELATION_ID_RULE });
  }
  if (labels.command) {
    for (const key of COMMANDS[labels.command].keys) {
      const value = fields[key];
      if (typeof value === 'string' && KEY_RULES[key].test(value)) labels.keys[key] = value;
    }
  }
  if (issues.length > 0 || !labels.command) return { ok: false, issues, labels };
  const message: CommandMessage = {
    command: labels.command,
    body: fields,
    ...(labels.correlationId ? { correlationId: labels.correlationId } : {}),
    ...(labels.eventId ? { eventId: labels.eventId } : {}),
  };
  return { ok: true, message, labels };
}

const isToken = (value: unknown): value is string => typeof value === 'string' && CORRELATION_ID.test(value);

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
