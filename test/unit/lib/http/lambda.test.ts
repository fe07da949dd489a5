import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import { lambda } from '../../../../lib/http/lambda';
import { recordMetric } from '../../../../lib/metrics';
import { logger, metrics } from '../../../../lib/observability';
import { wiring } from '../../../support/config/wiring';
import { lambdaContext } from '../../../support/wechatpay/callbacks';

/** The EMF documents the handler flushed: what CloudWatch would receive. */
function captureFlushes(): Record<string, unknown>[] {
  const flushed: Record<string, unknown>[] = [];
  mock.method(metrics, 'publishStoredMetrics', () => {
    if (metrics.hasStoredMetrics())
      flushed.push(metrics.serializeMetrics() as unknown as Record<string, unknown>);
    metrics.clearMetrics();
    metrics.clearDimensions();
  });
  return flushed;
}

const dimensionsOf = (emf: Record<string, unknown>) =>
  (emf._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]?.Dimensions[0];

/** Log lines Powertools wrote for the invocation event. */
function captureEventLogs(): unknown[] {
  const logged: unknown[] = [];
  const info = logger.info.bind(logger);
  mock.method(logger, 'info', (message: unknown, ...rest: unknown[]) => {
    if (message === 'Lambda invocation event') logged.push(rest[0]);
    return info(message as string, ...(rest as []));
  });
  // As POWERTOOLS_LOGGER_LOG_EVENT=true would: log events unless the handler says otherwise.
  mock.method(logger, 'shouldLogEvent', (overwrite?: boolean) => overwrite ?? true);
  return logged;
}

describe('lambda: the one wrapper of every function', () => {
  afterEach(() => mock.restoreAll());

  it('dimensions every metric by the wiring’s stage, on success and on failure, and flushes each time', async () => {
    const flushed = captureFlushes();
    const ok = lambda(async () => recordMetric('PresignCreated'), wiring(undefined, 'prod'));
    await ok({}, lambdaContext());
    const failing = lambda(
      async () => {
        recordMetric('PresignConflicted');
        throw new Error('refused');
      },
      wiring(undefined, 'dev'),
    );
    await assert.rejects(failing({}, lambdaContext()), /refused/);
    assert.equal(flushed.length, 2);
    assert.deepEqual(
      flushed.map((emf) => [emf.stage, emf.service]),
      [
        ['prod', 'wechatpay-credit-repayment'],
        ['dev', 'wechatpay-credit-repayment'],
      ],
    );
    assert.ok(dimensionsOf(flushed[0] ?? {})?.includes('stage'), 'stage is a dimension, not only a property');
    assert.equal(flushed[0]?.PresignCreated, 1);
  });

  it('logs the event when Powertools is told to, unless the function says never', async () => {
    const logged = captureEventLogs();
    const main = async () => 'done';
    await lambda(main, wiring(undefined))({ probe: 'logged' }, lambdaContext());
    await lambda(main, wiring(undefined), { logEvent: false })({ probe: 'secret' }, lambdaContext());
    assert.deepEqual(logged, [{ event: { probe: 'logged' } }]);
  });

  it('the edge middleware turns the error into the answer', async () => {
    const answered = lambda(
      async (): Promise<string> => {
        throw new Error('boom');
      },
      wiring(undefined),
      {
        edge: {
          onError: (request) => {
            request.response = `answered: ${request.error?.message}`;
          },
        },
      },
    );
    assert.equal(await answered({}, lambdaContext()), 'answered: boom');
  });
});
