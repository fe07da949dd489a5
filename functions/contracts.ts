import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { KEY_RULES } from '../lib/commands/message';
import { type ContractDeps, contractDeps } from '../lib/config/deps';
import { processRuntime, type Runtime } from '../lib/config/runtime';
import { type Budget, remainingTime } from '../lib/contracts/budget';
import { type ContractRecord, publicView } from '../lib/contracts/model';
import { syncContract } from '../lib/contracts/sync';
import { terminate } from '../lib/contracts/terminate';
import { ContractNotFound, ValidationFailed } from '../lib/errors';
import { httpApi } from '../lib/http/api';
import { parseJsonBody, rawBody } from '../lib/http/body';
import { type EventCommand, eventCommand, invokedCommand, notTaken } from '../lib/http/command';
import { decodeInbound } from '../lib/http/inbound';
import { lambda, type Wiring } from '../lib/http/lambda';
import { json } from '../lib/http/response';
import { recordMetric } from '../lib/metrics';
import { logger } from '../lib/observability';

/** The EventBridge `detail-type`s this function owns. */
const COMMANDS = ['TerminateRequested', 'SyncRequested'] as const;

/**
 * GET /contracts/{out_contract_code}[?sync=true] and POST /contracts/{out_contract_code}/terminate, or the same
 * by an EventBridge `TerminateRequested` (`detail`: the terminate body plus `out_contract_code`) or
 * `SyncRequested` (`detail`: `{out_contract_code}`), answered with the contract's view, or by a named command
 * (`{command, body}` with that detail as `body`), answered `{result}` or `{error}`.
 * With sync, WeChat Pay's query API is asked first and its answer applied (forward only). Both finish inside the
 * function's time (lib/contracts/budget.ts).
 */
export function makeHandler(wiring: Wiring<ContractDeps>) {
  async function main(event: unknown, context: Context) {
    const budget = remainingTime(context);
    const inbound = decodeInbound(event);
    switch (inbound.kind) {
      case 'api':
        return answered(wiring, inbound.event, budget);
      case 'eventbridge':
        return commanded(wiring, eventCommand(inbound.event, COMMANDS), budget);
      case 'command':
        return { result: await commanded(wiring, invokedCommand(inbound.invocation, COMMANDS), budget) };
      default:
        throw notTaken(
          inbound.kind === 'sqs' ? 'an SQS batch' : 'a direct invocation',
          `an API Gateway request, or an EventBridge or named command (${COMMANDS.join(', ')})`,
        );
    }
  }

  return lambda(main, wiring, { edge: httpApi() });
}

/** A command by event or by name: `fields` is the terminate body plus `out_contract_code`, or that code alone. */
async function commanded(
  wiring: Wiring<ContractDeps>,
  { command, fields }: EventCommand<(typeof COMMANDS)[number]>,
  budget: Budget,
) {
  const { out_contract_code, ...body } = fields;
  const code = checkCode(out_contract_code, '/');
  if (command === 'TerminateRequested')
    return publicView(await terminated(await wiring.load(), code, body, budget));
  const unknown = Object.keys(body);
  if (unknown.length > 0) {
    throw new ValidationFailed(
      unknown.map((key) => ({ field: `/${key}`, issue: 'is not a field of SyncRequested' })),
    );
  }
  return publicView(await synced(await wiring.load(), code, budget));
}

async function answered(wiring: Wiring<ContractDeps>, event: APIGatewayProxyEventV2, budget: Budget) {
  const code = checkCode(event.pathParameters?.out_contract_code ?? '', '');
  const deps = await wiring.load();
  if (event.routeKey.startsWith('POST ')) {
    return json(200, publicView(await terminated(deps, code, parseJsonBody(rawBody(event)), budget)));
  }
  const sync = event.queryStringParameters?.sync;
  if (sync !== undefined && sync !== 'true' && sync !== 'false') {
    throw new ValidationFailed([{ field: 'sync', issue: 'must be true or false' }]);
  }
  if (sync === 'true') return json(200, publicView(await synced(deps, code, budget)));
  const record = await deps.store.get(code);
  if (!record) throw new ContractNotFound(code);
  return json(200, publicView(record));
}

/**
 * The code, checked and put on every later log line. `pointer` is "" for the route's path parameter (named
 * bare) and "/" for an event's `detail` field (named as a JSON pointer, as body fields are).
 */
function checkCode(code: unknown, pointer: '' | '/'): string {
  if (typeof code !== 'string' || !KEY_RULES.out_contract_code.test(code)) {
    throw new ValidationFailed([
      { field: `${pointer}out_contract_code`, issue: 'must be 1 to 64 letters and digits' },
    ]);
  }
  logger.appendKeys({ out_contract_code: code });
  return code;
}

async function terminated(
  deps: ContractDeps,
  code: string,
  body: unknown,
  budget: Budget,
): Promise<ContractRecord> {
  const record = await terminate(deps, code, body, budget);
  logger.info('contract terminated', { state: record.state });
  return record;
}

async function synced(deps: ContractDeps, code: string, budget: Budget): Promise<ContractRecord> {
  const { record, changed } = await syncContract(deps, code, budget);
  if (changed) {
    recordMetric('SyncRepaired');
    logger.info('contract repaired from WeChat Pay', { state: record?.state });
  }
  if (!record) throw new ContractNotFound(code);
  return record;
}

/** This function on a given runtime: the local stack passes one whose clock it can move. */
export const handlerFor = (runtime: Runtime) => makeHandler(contractDeps(runtime));
export const handler = handlerFor(processRuntime);
