/**
 * The functions of serverless.yml as the local stack runs them: the real `functions/*.ts` handlers, with their
 * timeouts, HTTP routes and schedules read from serverless.yml. The gateway, the Lambda Invoke API and the
 * schedules all invoke through here, so a function runs the same way whichever door it is called through.
 */
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { createRuntime, type Runtime } from '../../lib/config/runtime';
import type { Clock } from '../../lib/wechatpay/clock';
import { lambdaContext } from './lambda-context';
import { parseScheduleExpression, type ScheduleExpression } from './schedule-expression';
import { readYaml } from './tables';

export interface HttpRoute {
  method: string;
  /** `/contracts/{out_contract_code}` */
  path: string;
}

export interface ScheduleEvent {
  expression: ScheduleExpression;
  /** `enabled: false` in serverless.yml: deployed but off; it still runs on demand. */
  enabled: boolean;
  /** EventBridge sends a constant `input` instead of its scheduled event. */
  input?: unknown;
  /** EventBridge Scheduler's `timezone` for cron expressions (default UTC). */
  timeZone?: string;
}

export interface LocalFunction {
  /** The function's key in serverless.yml (`presign`). */
  key: string;
  /** `functions/presign.handler` */
  handler: string;
  timeoutMs: number;
  routes: HttpRoute[];
  schedules: ScheduleEvent[];
}

export interface LocalFunctions {
  /** serverless.yml's `service`: deployed names are `<service>-<stage>-<key>`. */
  service: string;
  list: LocalFunction[];
  /** By key or deployed name (any stage). */
  find(name: string): LocalFunction | undefined;
  /** Runs the function's handler with a Lambda context whose budget is the function's timeout. */
  invoke(fn: LocalFunction, event: unknown, requestId?: string): Promise<unknown>;
  /**
   * The clock the functions' dependencies run on (the runtime's: the stack's test clock). The simulator signs and
   * checks signatures on it too, so both ends of every WeChat Pay exchange agree on the time.
   */
  clock: Clock;
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;
/** What every module under functions/ exports beside `handler`: the same handler built on a given runtime. */
type HandlerFor = (runtime: Runtime) => Handler;

interface ServerlessYml {
  service?: string;
  provider?: { timeout?: number };
  functions?: Record<string, { handler: string; timeout?: number; events?: Record<string, unknown>[] }>;
}

type ScheduleSetting =
  | string
  | { rate: string | string[]; enabled?: boolean; input?: unknown; timezone?: string };

/** serverless.yml's own default when neither the function nor the provider sets a timeout. */
const DEFAULT_TIMEOUT_S = 6;
const UNSUPPORTED_SCHEDULE_KEYS = ['inputPath', 'inputTransformer'];

function schedulesOf(key: string, events: Record<string, unknown>[]): ScheduleEvent[] {
  return events.flatMap((e) => {
    if (!('schedule' in e)) return [];
    const s = e.schedule as ScheduleSetting;
    const setting = typeof s === 'string' ? { rate: s } : s;
    for (const unsupported of UNSUPPORTED_SCHEDULE_KEYS) {
      if (unsupported in setting) {
        throw new Error(
          `serverless.yml functions.${key}: schedule.${unsupported} is not run by the local stack`,
        );
      }
    }
    const rates = Array.isArray(setting.rate) ? setting.rate : [setting.rate];
    return rates.map((rate) => ({
      expression: parseScheduleExpression(rate),
      enabled: setting.enabled !== false,
      ...('input' in setting ? { input: setting.input } : {}),
      ...(setting.timezone ? { timeZone: setting.timezone } : {}),
    }));
  });
}

/**
 * serverless.yml's functions, each built on `runtime` (its clock and caches shared by all of them, as in one
 * Lambda container), through the module's `handlerFor` export rather than its process-wide `handler`.
 */
export function loadFunctions(root: string, runtime: Runtime = createRuntime()): LocalFunctions {
  const doc = readYaml(join(root, 'serverless.yml')) as ServerlessYml;
  const service = doc.service ?? '';
  const list = Object.entries(doc.functions ?? {}).map(
    ([key, fn]): LocalFunction => ({
      key,
      handler: fn.handler,
      timeoutMs: (fn.timeout ?? doc.provider?.timeout ?? DEFAULT_TIMEOUT_S) * 1000,
      routes: (fn.events ?? []).flatMap((e) => {
        const route = e.httpApi as HttpRoute | undefined;
        return route ? [{ method: route.method.toUpperCase(), path: route.path }] : [];
      }),
      schedules: schedulesOf(key, fn.events ?? []),
    }),
  );
  // Longest key first, so `<service>-<stage>-<key>` picks the key a shorter one only ends with.
  const byLength = [...list].sort((a, b) => b.key.length - a.key.length);

  const handlers = new Map<string, Promise<Handler>>();
  const load = (fn: LocalFunction): Promise<Handler> => {
    let loaded = handlers.get(fn.handler);
    if (!loaded) {
      const dot = fn.handler.lastIndexOf('.');
      const file = resolve(root, `${fn.handler.slice(0, dot)}.ts`);
      const exported = fn.handler.slice(dot + 1);
      loaded = import(pathToFileURL(file).href).then((m: Record<string, unknown>) => {
        const handlerFor = m[`${exported}For`] as HandlerFor | undefined;
        if (typeof handlerFor !== 'function') throw new Error(`${file} does not export ${exported}For`);
        return handlerFor(runtime);
      });
      handlers.set(fn.handler, loaded);
    }
    return loaded;
  };

  return {
    service,
    list,
    find: (name) =>
      list.find((fn) => fn.key === name) ??
      byLength.find(
        (fn) =>
          name.startsWith(`${service}-`) &&
          name.endsWith(`-${fn.key}`) &&
          name.length > service.length + fn.key.length + 2,
      ),
    invoke: async (fn, event, requestId = randomUUID()) =>
      (await load(fn))(event, lambdaContext(fn.key, fn.timeoutMs, requestId)),
    clock: runtime.clock,
  };
}
