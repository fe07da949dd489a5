import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import { lambda } from '../../../../lib/http/lambda';
import { recordMetric } from '../../../../lib/metrics';
import { logger, metrics } from '../../../../lib/observability';
import { wiring } from '../../../support/config/wiring';
import { captureOutput } from '../../../support/observability/output-capture';
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

  it('puts the invocation’s trace id (Lambda’s active tracing) in every log line, each invocation its own', async () => {
    const traces = [
      [
        '1-5759e988-bd862e3fe1be46a994272793',
        'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      ],
      [
        '1-67891233-abcdef012345678912345678',
        'Root=1-67891233-abcdef012345678912345678;Parent=4a4c1ab3c0b2e6f1;Sampled=0',
      ],
    ] as const;
    const saved = process.env._X_AMZN_TRACE_ID;
    const output = captureOutput();
    try {
      const main = async () => {
        logger.warn('first line');
        logger.error('second line', { error: new Error('refused') });
      };
      for (const [, header] of traces) {
        // Lambda sets the variable afresh for each invocation, before the handler runs.
        process.env._X_AMZN_TRACE_ID = header;
        await lambda(main, wiring(undefined))({}, lambdaContext());
      }
    } finally {
      output.stop();
      if (saved === undefined) delete process.env._X_AMZN_TRACE_ID;
      else process.env._X_AMZN_TRACE_ID = saved;
    }
    const lines = output.logs().filter((l) => ['first line', 'second line'].includes(String(l.message)));
    assert.equal(lines.length, 4, JSON.stringify(output.logs()));
    assert.deepEqual(
      lines.map((l) => l.xray_trace_id),
      [traces[0][0], traces[0][0], traces[1][0], traces[1][0]],
    );
  });
});
