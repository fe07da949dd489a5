import { unhandledDeps } from '../lib/config/deps';
import { processRuntime, type Runtime } from '../lib/config/runtime';
import type { ApplyReport } from '../lib/contracts/unhandled';
import { ValidationFailed } from '../lib/errors';
import { lambda, type Wiring } from '../lib/http/lambda';
import { logger } from '../lib/observability';
import { applyAllKept, type KeptList, type KeptNotificationsDeps, listAllKept } from '../lib/repayments/kept';

/** Notifications one invocation lists or applies, of each kind. */
const LIMIT = 100;

export type NotificationsCommand =
  | { command: 'list'; cursor?: string; repayment_cursor?: string }
  | { command: 'apply'; ids?: string[] };

/**
 * The operator's door to the notifications kept UNHANDLED (direct invocation only, no route): the contract
 * callbacks (`notifications`) and the DEDUCTION_PAYs that did not match our records (`repayment_notifications`).
 * `{"command":"list"}` shows the first page of both without their bodies; `"cursor"` or `"repayment_cursor"`
 * (as a list returned) pages on through that kind. `{"command":"apply"}` applies every one that now applies,
 * `"ids": […]` only those.
 * `npm run notifications -- list|apply [id…]`, or `aws lambda invoke` (docs/deploy.md).
 */
export function makeHandler(wiring: Wiring<KeptNotificationsDeps>) {
  async function main(event: unknown): Promise<KeptList | ApplyReport> {
    const command = parse(event);
    const deps = await wiring.load();
    if (command.command === 'list') return listAllKept(deps, LIMIT, command);
    const report = await applyAllKept(deps, {
      limit: LIMIT,
      ...(command.ids ? { ids: command.ids } : {}),
    });
    logger.info('kept notifications applied', { ...report });
    return report;
  }

  return lambda(main, wiring);
}

function parse(event: unknown): NotificationsCommand {
  const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  if (e.command === 'list') {
    const command: NotificationsCommand = { command: 'list' };
    for (const field of ['cursor', 'repayment_cursor'] as const) {
      const value = e[field];
      if (value === undefined) continue;
      if (typeof value !== 'string') {
        throw new ValidationFailed([{ field: `/${field}`, issue: 'must be the cursor a list returned' }]);
      }
      command[field] = value;
    }
    return command;
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
