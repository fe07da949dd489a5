import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { type ContractDeps, contractDeps } from '../lib/config/deps';
import { processRuntime, type Runtime } from '../lib/config/runtime';
import { remainingTime } from '../lib/contracts/budget';
import { publicView } from '../lib/contracts/model';
import { syncContract } from '../lib/contracts/sync';
import { terminate } from '../lib/contracts/terminate';
import { ContractNotFound, ValidationFailed } from '../lib/errors';
import { httpApi } from '../lib/http/api';
import { parseJsonBody, rawBody } from '../lib/http/body';
import { lambda, type Wiring } from '../lib/http/lambda';
import { json } from '../lib/http/response';
import { recordMetric } from '../lib/metrics';
import { logger } from '../lib/observability';

/**
 * GET /contracts/{out_contract_code}[?sync=true] and POST /contracts/{out_contract_code}/terminate.
 * With sync, WeChat Pay's query API is asked first and its answer applied (forward only). Both finish inside the
 * function's time (lib/contracts/budget.ts).
 */
export function makeHandler(wiring: Wiring<ContractDeps>) {
  async function main(event: APIGatewayProxyEventV2, context: Context) {
    const code = event.pathParameters?.out_contract_code ?? '';
    if (!/^[0-9A-Za-z]{1,64}$/.test(code)) {
      throw new ValidationFailed([
        { field: 'out_contract_code', issue: 'must be 1 to 64 letters and digits' },
      ]);
    }
    logger.appendKeys({ out_contract_code: code });
    const deps = await wiring.load();
    if (event.routeKey.startsWith('POST ')) {
      const record = await terminate(deps, code, parseJsonBody(rawBody(event)), remainingTime(context));
      logger.info('contract terminated', { state: record.state });
      return json(200, publicView(record));
    }
    const sync = event.queryStringParameters?.sync;
    if (sync !== undefined && sync !== 'true' && sync !== 'false') {
      throw new ValidationFailed([{ field: 'sync', issue: 'must be true or false' }]);
    }
    if (sync === 'true') {
      const { record, changed } = await syncContract(deps, code, remainingTime(context));
      if (changed) {
        recordMetric('SyncRepaired');
        logger.info('contract repaired from WeChat Pay', { state: record?.state });
      }
      if (!record) throw new ContractNotFound(code);
      return json(200, publicView(record));
    }
    const record = await deps.store.get(code);
    if (!record) throw new ContractNotFound(code);
    return json(200, publicView(record));
  }

  return lambda(main, wiring, { edge: httpApi() });
}

/** This function on a given runtime: the local stack passes one whose clock it can move. */
export const handlerFor = (runtime: Runtime) => makeHandler(contractDeps(runtime));
export const handler = handlerFor(processRuntime);
