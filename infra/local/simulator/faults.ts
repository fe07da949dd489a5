import type { Fault } from './types';

export type FaultAction =
  | { kind: 'status'; status: number; body: unknown; raw?: string; retryAfter?: number }
  | { kind: 'hang' }
  | { kind: 'drop' }
  | { kind: 'delay'; ms: number };

const DEFAULT_BODY: Record<number, unknown> = {
  429: { code: 'RATELIMIT_EXCEEDED', message: '请求未受理，请降低频率后重试' },
};

function defaultBody(status: number): unknown {
  return DEFAULT_BODY[status] ?? (status >= 500 ? { code: 'SYSTEM_ERROR', message: '系统错误' } : undefined);
}

/** Throws a message naming what is wrong with a fault definition (it comes from HTTP too). */
export function checkFault(f: unknown): Fault {
  const o = (typeof f === 'object' && f !== null ? f : {}) as Record<string, unknown>;
  if (typeof o.path !== 'string' || !o.path.startsWith('/'))
    throw new Error('path must be a string starting with /');
  if (typeof o.count !== 'number' || !Number.isInteger(o.count) || o.count < 1) {
    throw new Error('count must be a positive integer');
  }
  if (o.method !== undefined && o.method !== 'GET' && o.method !== 'POST')
    throw new Error('method must be GET or POST');
  const modes = [o.status !== undefined, o.hang === true, o.drop === true, o.delayMs !== undefined];
  if (modes.filter(Boolean).length > 1) throw new Error('give only one of status, hang, drop, delayMs');
  if (o.status !== undefined && (typeof o.status !== 'number' || o.status < 100 || o.status > 599)) {
    throw new Error('status must be an HTTP status 100..599');
  }
  if (o.delayMs !== undefined && !nonNegativeInteger(o.delayMs)) {
    throw new Error('delayMs must be a non-negative integer of milliseconds');
  }
  if (o.retryAfter !== undefined && !nonNegativeInteger(o.retryAfter)) {
    throw new Error('retryAfter must be a non-negative integer of seconds');
  }
  if (o.raw !== undefined && typeof o.raw !== 'string') throw new Error('raw must be a string');
  if ((o.retryAfter !== undefined || o.raw !== undefined) && o.status === undefined) {
    throw new Error('retryAfter and raw shape a status answer: give status too');
  }
  return o as unknown as Fault;
}

function nonNegativeInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** Armed faults, consumed first-in first-out by the requests whose path they prefix (and method, if given). */
export class Faults {
  private readonly armed: Fault[] = [];

  add(fault: Fault): void {
    this.armed.push({ ...checkFault(fault) });
  }

  take(method: string, path: string): FaultAction | undefined {
    const index = this.armed.findIndex((f) => path.startsWith(f.path) && (f.method ?? method) === method);
    const fault = this.armed[index];
    if (!fault) return undefined;
    fault.count--;
    if (fault.count <= 0) this.armed.splice(index, 1);
    if (fault.hang) return { kind: 'hang' };
    if (fault.drop) return { kind: 'drop' };
    if (fault.delayMs !== undefined) return { kind: 'delay', ms: fault.delayMs };
    const status = fault.status ?? 500;
    return {
      kind: 'status',
      status,
      body: fault.body ?? defaultBody(status),
      ...(fault.raw !== undefined ? { raw: fault.raw } : {}),
      ...(fault.retryAfter !== undefined ? { retryAfter: fault.retryAfter } : {}),
    };
  }
}
