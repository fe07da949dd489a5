import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { certificateDeps } from '../lib/config';
import { logger, metrics, tracer } from '../lib/observability';

export interface CertificatesReport {
  enabled: boolean;
  certificates: { serial: string; not_after: string }[];
}

const DAY_MS = 24 * 3600_000;

/**
 * Scheduled (every 6 hours; WeChat Pay advises under 12): in certificate mode, downloads WeChat Pay's platform
 * certificates, verifies them (bootstrap) and stores them for every function. A new certificate is listed about
 * 10 days before WeChat Pay signs with it, so it is stored long before the first callback needs it.
 */
async function main(): Promise<CertificatesReport> {
  const deps = await certificateDeps();
  if (!deps) {
    logger.info('certificate mode is disabled (WECHATPAY_PLATFORM_CERTIFICATES); nothing to refresh');
    return { enabled: false, certificates: [] };
  }
  const set = await deps.refresh();
  const certificates = set.certificates.map(({ serial, not_after }) => ({ serial, not_after }));
  const latest = Math.max(0, ...certificates.map((c) => Date.parse(c.not_after)));
  // Alarm on this falling under ~30 days: WeChat Pay has not issued the next certificate in time.
  metrics.addMetric(
    'PlatformCertificateDaysLeft',
    MetricUnit.Count,
    Math.floor((latest - Date.now()) / DAY_MS),
  );
  return { enabled: true, certificates };
}

export const handler = middy(main)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
