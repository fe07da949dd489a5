import type { Context } from 'aws-lambda';
import { presignDeps } from '../lib/config/deps';
import { processRuntime, type Runtime } from '../lib/config/runtime';
import { remainingTime } from '../lib/contracts/budget';
import type { PresignKind } from '../lib/contracts/model';
import { type PresignDeps, presign, type StoreFailure } from '../lib/contracts/presign';
import { ContractCodeUsed, PresignInProgress, ValidationFailed, WechatPayRejected } from '../lib/errors';
import { httpApi } from '../lib/http/api';
import { parseJsonBody, rawBody } from '../lib/http/body';
import { eventCommand, invokedCommand, notTaken } from '../lib/http/command';
import { decodeInbound, type Inbound } from '../lib/http/inbound';
import { lambda, type Wiring } from '../lib/http/lambda';
import { json } from '../lib/http/response';
import { recordMetric } from '../lib/metrics';
import { logger } from '../lib/observability';

/** The commands this function owns (EventBridge `detail-type`s, named commands), and the presign each asks for. */
const COMMANDS = { PresignRequested: 'H5', AppPresignRequested: 'APP' } as const;
const OWNED = Object.keys(COMMANDS) as (keyof typeof COMMANDS)[];

/**
 * POST /contracts/h5-presign and POST /contracts/app-presign; an EventBridge `PresignRequested` or
 * `AppPresignRequested` whose `detail` is the body; the same as a named command (`{command, body}`, answered
 * `{result}` or `{error}`); or a direct invocation whose event is the H5 body (or `{"kind":"APP", …body}` for
 * APP). Returns 201 with the redirect URL / presign token, 200 for an identical replay.
 */
export function makeHandler(wiring: Wiring<PresignDeps>) {
  async function main(event: unknown, context: Context) {
    const inbound = decodeInbound(event);
    const { kind, body } = requested(inbound);
    // Every step fits in what Lambda leaves this invocation, so the outcome is recorded before it stops us.
    const outcome = await presign(await wiring.load(), kind, body, remainingTime(context)).catch(
      (error: unknown) => {
        // A refused body's code is not logged: whatever the caller put there (a name, an ID number) stays out.
        if (!(error instanceof ValidationFailed)) tagCode(body);
        countFailure(error);
        const storeFailure = (error as { storeFailure?: StoreFailure }).storeFailure;
        if (storeFailure) logStoreFailure('presign failed and its outcome was not recorded', storeFailure);
        throw error;
      },
    );
    tagCode(body);
    recordMetric(outcome.replayed ? 'PresignReplayed' : 'PresignCreated');
    if (!outcome.stored) {
      // WeChat Pay accepted, our store did not: the callback or reconcile settles the record later.
      logStoreFailure('presign accepted by WeChat Pay but the record was not updated', outcome.storeFailure, {
        wechatpay_request_id: outcome.requestId,
      });
    }
    logger.info(outcome.replayed ? 'presign replayed' : 'presign created', {
      wechatpay_request_id: outcome.requestId,
    });
    if (inbound.kind === 'command') return { result: outcome.result };
    if (inbound.kind !== 'api') return outcome.result;
    return outcome.replayed
      ? json(200, outcome.result, { 'idempotent-replayed': 'true' })
      : json(201, outcome.result);
  }

  // Never log the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: its body holds the plaintext identity.
  return lambda(main, wiring, { logEvent: false, edge: httpApi() });
}

/** Once per swallowed store failure: the record is settled later by the callback or reconcile. */
function logStoreFailure(message: string, failure: StoreFailure, extra: Record<string, unknown> = {}): void {
  recordMetric('PresignStoreFailed');
  logger.error(message, { ...extra, reason: failure.reason });
}

/** Adds the (validated) out_contract_code to every later log line of this invocation. */
function tagCode(body: unknown): void {
  const code = (body as { out_contract_code?: unknown }).out_contract_code;
  if (typeof code === 'string') logger.appendKeys({ out_contract_code: code });
}

function requested(inbound: Inbound): { kind: PresignKind; body: unknown } {
  switch (inbound.kind) {
    case 'api':
      return {
        kind: inbound.event.routeKey.endsWith('/app-presign') ? 'APP' : 'H5',
        body: parseJsonBody(rawBody(inbound.event)),
      };
    case 'eventbridge': {
      const { command, fields } = eventCommand(inbound.event, OWNED);
      return { kind: COMMANDS[command], body: fields };
    }
    case 'command': {
      const { command, fields } = invokedCommand(inbound.invocation, OWNED);
      return { kind: COMMANDS[command], body: fields };
    }
    case 'sqs':
      throw notTaken('an SQS batch', 'an API Gateway request, an EventBridge command or a direct invocation');
    case 'direct':
      return directInvocation(inbound.body);
  }
}

function directInvocation(event: unknown): { kind: PresignKind; body: unknown } {
  if (typeof event === 'object' && event !== null && 'kind' in event) {
    const { kind, ...body } = event as Record<string, unknown>;
    if (kind !== 'APP' && kind !== 'H5')
      throw new ValidationFailed([{ field: '/kind', issue: 'must be "H5" or "APP"' }]);
    return { kind, body };
  }
  return { kind: 'H5', body: event };
}

function countFailure(error: unknown): void {
  if (error instanceof ContractCodeUsed || error instanceof PresignInProgress) {
    recordMetric('PresignConflicted');
  } else if (error instanceof WechatPayRejected) {
    recordMetric('PresignRejectedByWechatPay');
  }
}

/** This function on a given runtime: the local stack passes one whose clock it can move. */
export const handlerFor = (runtime: Runtime) => makeHandler(presignDeps(runtime));
export const handler = handlerFor(processRuntime);
