import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { KEY_RULES } from '../lib/commands/message';
import { repaymentDeps } from '../lib/config/repayment-deps';
import { processRuntime, type Runtime } from '../lib/config/runtime';
import type { StoreFailure } from '../lib/contracts/presign';
import {
  BookingInProgress,
  DeductionInProgress,
  RepaymentIdUsed,
  RepaymentNotFound,
  RepaymentStateConflict,
  TradeNoUsed,
  ValidationFailed,
  WechatPayRejected,
  WechatPayUnavailable,
} from '../lib/errors';
import { httpApi } from '../lib/http/api';
import { parseJsonBody, rawBody } from '../lib/http/body';
import { type EventCommand, eventCommand, invokedCommand, notTaken } from '../lib/http/command';
import { decodeInbound } from '../lib/http/inbound';
import { lambda, type Wiring } from '../lib/http/lambda';
import { json } from '../lib/http/response';
import { recordMetric } from '../lib/metrics';
import { logger } from '../lib/observability';
import { type BookDeps, type BookOutcome, book } from '../lib/repayments/book';
import { deduct } from '../lib/repayments/deduct';
import { isFinalOrder } from '../lib/repayments/lifecycle';
import { bookingAnswer, publicView } from '../lib/repayments/model';
import { settleBooking } from '../lib/repayments/settle';
import { checkPathId } from '../lib/repayments/validation';

const BOOK = 'POST /contracts/{out_contract_code}/repayments';
const DEDUCT = 'POST /repayments/{out_record_id}/deduct';
const REPLAYED = { 'idempotent-replayed': 'true' };
/** The EventBridge `detail-type`s this function owns. */
const COMMANDS = ['RepaymentBookingRequested', 'DeductRequested'] as const;

/**
 * POST /contracts/{out_contract_code}/repayments (book), GET /repayments/{out_record_id}[?sync=true] and
 * POST /repayments/{out_record_id}/deduct; or a direct invocation whose event is
 * `{"out_contract_code", …booking body}`, answered with the booking's 201/200 body; or an EventBridge
 * `RepaymentBookingRequested` (`detail`: that same event) or `DeductRequested` (`detail`: the deduct body plus
 * `out_record_id`), answered with the booking's view; or the same as a named command (`{command, body}` with that
 * detail as `body`), answered `{result}` or `{error}`.
 */
export function makeHandler(wiring: Wiring<BookDeps>) {
  async function main(event: unknown) {
    const inbound = decodeInbound(event);
    switch (inbound.kind) {
      case 'api':
        return routed(wiring, inbound.event);
      case 'eventbridge':
        return commanded(wiring, eventCommand(inbound.event, COMMANDS));
      case 'command':
        return { result: await commanded(wiring, invokedCommand(inbound.invocation, COMMANDS)) };
      case 'direct':
        return bookedDirectly(wiring, inbound.body);
      case 'sqs':
        throw notTaken(
          'an SQS batch',
          'an API Gateway request, an EventBridge or named command or a direct invocation',
        );
    }
  }

  // Never log the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: a refused body may hold anything a caller
  // put there, and a refusal must not echo it.
  return lambda(main, wiring, { logEvent: false, edge: httpApi() });
}

async function routed(wiring: Wiring<BookDeps>, event: APIGatewayProxyEventV2) {
  if (event.routeKey === BOOK) {
    const code = event.pathParameters?.out_contract_code ?? '';
    checkPathId('out_contract_code', code);
    const outcome = await booked(await wiring.load(), code, parseJsonBody(rawBody(event)));
    const answer = bookingAnswer(outcome.record);
    return outcome.replayed ? json(200, answer, REPLAYED) : json(201, answer);
  }
  const id = event.pathParameters?.out_record_id ?? '';
  checkPathId('out_record_id', id);
  logger.appendKeys({ out_record_id: id });
  const deps = await wiring.load();
  if (event.routeKey === DEDUCT) {
    // 200 once the order is final, 202 while WeChat Pay is still collecting it.
    const outcome = await deducted(deps, id, parseJsonBody(rawBody(event)));
    const status = isFinalOrder(outcome.order.order_state) ? 200 : 202;
    return json(status, publicView(outcome.record), outcome.replayed ? REPLAYED : {});
  }
  return query(deps, id, event.queryStringParameters?.sync);
}

/** A command by event or by name: a booking's fields are the direct invocation's event, a deduct's its body and id. */
async function commanded(
  wiring: Wiring<BookDeps>,
  { command, fields }: EventCommand<(typeof COMMANDS)[number]>,
) {
  if (command === 'RepaymentBookingRequested') return bookedDirectly(wiring, fields);
  const { out_record_id: id, ...body } = fields;
  if (typeof id !== 'string' || !KEY_RULES.out_record_id.test(id)) {
    throw new ValidationFailed([
      { field: '/out_record_id', issue: 'is required: 1 to 32 letters and digits' },
    ]);
  }
  logger.appendKeys({ out_record_id: id });
  return publicView((await deducted(await wiring.load(), id, body)).record);
}

async function bookedDirectly(wiring: Wiring<BookDeps>, event: unknown) {
  const { out_contract_code: code, ...body } = directBooking(event);
  return bookingAnswer((await booked(await wiring.load(), code, body)).record);
}

async function booked(deps: BookDeps, code: string, body: unknown): Promise<BookOutcome> {
  logger.appendKeys({ out_contract_code: code });
  const outcome = await book(deps, code, body).catch((error: unknown) => {
    countFailure(error);
    throw error;
  });
  logger.appendKeys({ out_record_id: outcome.record.out_record_id });
  recordMetric(outcome.replayed ? 'RepaymentReplayed' : 'RepaymentBooked');
  if (outcome.storeFailure)
    logStoreFailure('booking accepted by WeChat Pay but not recorded', outcome.storeFailure);
  logger.info(outcome.replayed ? 'booking replayed' : 'booking created', {
    state: outcome.record.state,
    wechatpay_request_id: outcome.requestId,
  });
  return outcome;
}

async function deducted(deps: BookDeps, id: string, body: unknown) {
  const outcome = await deduct(deps, id, body).catch((error: unknown) => {
    countFailure(error);
    throw error;
  });
  const { order } = outcome;
  logger.appendKeys({ out_trade_no: order.out_trade_no });
  recordMetric(outcome.replayed ? 'RepaymentReplayed' : 'DeductionSent');
  if (outcome.storeFailure) logStoreFailure('deduct order answered but not recorded', outcome.storeFailure);
  logger.info(outcome.replayed ? 'deduct replayed' : 'deduct order sent', { order_state: order.order_state });
  return outcome;
}

async function query(deps: BookDeps, id: string, sync: string | undefined) {
  if (sync !== undefined && sync !== 'true' && sync !== 'false') {
    throw new ValidationFailed([{ field: 'sync', issue: 'must be true or false' }]);
  }
  if (sync === 'true') {
    const result = await settleBooking(deps, id, 'sync');
    if (!result) throw new RepaymentNotFound(id);
    if (result.settled) {
      recordMetric('SyncRepaired');
      logger.info('repayment repaired from WeChat Pay', { state: result.record.state });
    }
    return json(200, publicView(result.record));
  }
  const record = await deps.store.get(id);
  if (!record) throw new RepaymentNotFound(id);
  return json(200, publicView(record));
}

/** The direct invocation's event: the booking body with the contract's code beside it. */
function directBooking(event: unknown): { out_contract_code: string } & Record<string, unknown> {
  const fields = typeof event === 'object' && event !== null && !Array.isArray(event) ? event : {};
  const code = (fields as { out_contract_code?: unknown }).out_contract_code;
  if (typeof code !== 'string' || !KEY_RULES.out_contract_code.test(code)) {
    throw new ValidationFailed([
      { field: '/out_contract_code', issue: 'is required: 1 to 64 letters and digits' },
    ]);
  }
  return { ...(fields as Record<string, unknown>), out_contract_code: code };
}

function countFailure(error: unknown): void {
  if (
    error instanceof RepaymentIdUsed ||
    error instanceof BookingInProgress ||
    error instanceof DeductionInProgress ||
    error instanceof TradeNoUsed ||
    error instanceof RepaymentStateConflict
  ) {
    recordMetric('RepaymentConflicted');
  } else if (error instanceof WechatPayRejected) {
    recordMetric('RepaymentRejectedByWechatPay');
  } else if (error instanceof WechatPayUnavailable) {
    recordMetric('RepaymentOutcomeUnknown');
  }
  const storeFailure = (error as { storeFailure?: StoreFailure } | undefined)?.storeFailure;
  if (storeFailure) logStoreFailure('a refused or lost booking or order was not recorded', storeFailure);
}

/** Once per swallowed store failure: the booking stays polled, so the query settles it later. */
function logStoreFailure(message: string, failure: StoreFailure): void {
  recordMetric('RepaymentStoreFailed');
  logger.error(message, { reason: failure.reason });
}

/** This function on a given runtime: the local stack passes one whose clock it can move. */
export const handlerFor = (runtime: Runtime) => makeHandler(repaymentDeps(runtime));
export const handler = handlerFor(processRuntime);
