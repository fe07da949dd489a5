import { unhandledDeps } from '../lib/config/deps';
import { processRuntime, type Runtime } from '../lib/config/runtime';
import {
  type ApplyReport,
  applyUnhandled,
  listUnhandled,
  type UnhandledDeps,
  type UnhandledView,
} from '../lib/contracts/unhandled';
import { ValidationFailed } from '../lib/errors';
import { lambda, type Wiring } from '../lib/http/lambda';
import { logger } from '../lib/observability';

/** Notifications one invocation lists or applies. */
const LIMIT = 100;

export type NotificationsCommand =
  | { command: 'list'; cursor?: string }
  | { command: 'apply'; ids?: string[] };

/**
 * The operator's door to the notifications kept UNHANDLED (direct invocation only, no route):
 * `{"command":"list"}` (then with the `cursor` it returned) shows them without their bodies;
 * `{"command":"apply"}` applies every one this release understands, `"ids": […]` only those.
 * `npm run notifications -- list|apply [id…]`, or `aws lambda invoke` (docs/deploy.md).
 */
export function makeHandler(wiring: Wiring<UnhandledDeps>) {
  async function main(
    event: unknown,
  ): Promise<{ notifications: UnhandledView[]; cursor?: string } | ApplyReport> {
    const command = parse(event);
    const deps = await wiring.load();
    if (command.command === 'list') return listUnhandled(deps, LIMIT, command.cursor);
    const report = await applyUnhandled(deps, { limit: LIMIT, ...(command.ids ? { ids: command.ids } : {}) });
    logger.info('kept notifications applied', { ...report });
    return report;
  }

  return lambda(main, wiring);
}

function parse(event: unknown): NotificationsCommand {
  const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  if (e.command === 'list') {
    if (e.cursor !== undefined && typeof e.cursor !== 'string') {
      throw new ValidationFailed([{ field: '/cursor', issue: 'must be the cursor a list returned' }]);
    }
    return e.cursor === undefined ? { command: 'list' } : { command: 'list', cursor: e.cursor };
  }
  if (e.command === 'apply') {
    const ids = e.ids;
    if (
      ids !== undefined &&
      !(Array.isArray(ids) && ids.every((id) => typeof id === 'string' && id !== ''))
    ) {
      throw new ValidationFailed([{ field: '/ids', issue: 'must be a list of notification ids' }]);
    }
    return ids === undefined ? { command: 'apply' } : { command: 'apply', ids: ids as string[] };
  }
  throw new ValidationFailed([{ field: '/command', issue: 'must be "list" or "apply"' }]);
}

/** This function on a given runtime: the local stack passes one whose clock it can move. */
export const handlerFor = (runtime: Runtime) => makeHandler(unhandledDeps(runtime));
export const handler = handlerFor(processRuntime);
