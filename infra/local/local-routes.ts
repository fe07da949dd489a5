/**
 * The local stack's own routes on the API port, beside the service's: the test clock (`GET`/`POST
 * /local/clock`) and the schedules (`GET /local/schedules`, `POST /local/schedules/{function}/run`). Errors
 * are shaped like the service's: `{"code","message"}`, with `errors: [{field, issue}]` for a bad body.
 */
import type { ServerResponse } from 'node:http';
import type { Extra } from './gateway';
import type { LocalSchedules } from './schedules';
import type { TestClock } from './test-clock';

export interface LocalRoutesOptions {
  clock: Pick<TestClock, 'now' | 'offsetSeconds'>;
  /** Every event published so far, in the order each kind was published. */
  events: () => unknown[];
  schedules: () => LocalSchedules | undefined;
  /** Moves the test clock and the simulator's: a RangeError for refused seconds, ClockNotMovable without one. */
  advance: (seconds: number) => Promise<void>;
}

/** The service talks to another WeChat Pay peer, whose clock nobody here can move. */
export class ClockNotMovable extends Error {
  override readonly name = 'ClockNotMovable';
  constructor() {
    super(
      'the test clock moves the service and the WeChat Pay simulator together; with WECHATPAY_BASE_URL set ' +
        'there is no simulator, and another WeChat Pay peer checks timestamps against its own clock',
    );
  }
}

const RUN_PATH = /^\/local\/schedules\/([^/]+)\/run$/;

function reply(res: ServerResponse, status: number, body: unknown): true {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, null, 2));
  return true;
}

const invalid = (res: ServerResponse, field: string, issue: string) =>
  reply(res, 400, {
    code: 'VALIDATION_FAILED',
    message: `request is invalid: ${field || '/'} ${issue}`,
    errors: [{ field, issue }],
  });

export function localRoutes(options: LocalRoutesOptions): Extra {
  const { clock } = options;
  const reading = () => ({ now: new Date(clock.now()).toISOString(), offset_s: clock.offsetSeconds });

  return async (req, res, body) => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const route = `${req.method} ${path}`;
    if (route === 'GET /local/events') return reply(res, 200, options.events());
    if (route === 'GET /local/clock') return reply(res, 200, reading());
    if (route === 'POST /local/clock') {
      let input: unknown;
      try {
        input = JSON.parse(body.toString('utf8'));
      } catch {
        return invalid(res, '', 'must be JSON: {"advance_s": <seconds>}');
      }
      if (typeof input !== 'object' || input === null || !('advance_s' in input)) {
        return invalid(res, '/advance_s', 'is required: {"advance_s": <seconds>}');
      }
      try {
        await options.advance(input.advance_s as number);
      } catch (error) {
        if (error instanceof ClockNotMovable) {
          return reply(res, 409, { code: 'CLOCK_NOT_MOVABLE', message: error.message });
        }
        if (error instanceof RangeError) return invalid(res, '/advance_s', error.message);
        throw error;
      }
      return reply(res, 200, reading());
    }
    const schedules = options.schedules();
    if (!schedules) return false;
    if (route === 'GET /local/schedules') return reply(res, 200, schedules.list());
    const run = req.method === 'POST' ? RUN_PATH.exec(path) : null;
    if (!run) return false;
    const name = decodeURIComponent(run[1] ?? '');
    const ran = await schedules.run(name);
    if (!ran) {
      const scheduled = [...new Set(schedules.list().map((s) => s.function))].join(', ');
      return reply(res, 404, {
        code: 'SCHEDULE_NOT_FOUND',
        message: `${name} has no schedule event in serverless.yml; scheduled functions: ${scheduled}`,
      });
    }
    // The function's own failure is the local integration's failure too, as API Gateway answers it.
    return reply(res, ran.error ? 500 : 200, ran);
  };
}
