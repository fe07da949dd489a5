import { type CertificateDeps, certificateDeps } from '../lib/config/deps';
import { processRuntime, type Runtime } from '../lib/config/runtime';
import { lambda, type Wiring } from '../lib/http/lambda';
import { recordMetric } from '../lib/metrics';
import { logger } from '../lib/observability';

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
export function makeHandler(wiring: Wiring<CertificateDeps | undefined>) {
  async function main(): Promise<CertificatesReport> {
    const deps = await wiring.load();
    if (!deps) {
      logger.info('certificate mode is disabled (WECHATPAY_PLATFORM_CERTIFICATES); nothing to refresh');
      return { enabled: false, certificates: [] };
    }
    const set = await deps.refresh();
    const certificates = set.certificates.map(({ serial, not_after }) => ({ serial, not_after }));
    const latest = Math.max(0, ...certificates.map((c) => Date.parse(c.not_after)));
    // Alarm on this falling under ~30 days: WeChat Pay has not issued the next certificate in time.
    recordMetric('PlatformCertificateDaysLeft', Math.floor((latest - deps.clock()) / DAY_MS));
    return { enabled: true, certificates };
  }

  return lambda(main, wiring);
}

/** This function on a given runtime: the local stack passes one whose clock it can move. */
export const handlerFor = (runtime: Runtime) => makeHandler(certificateDeps(runtime));
export const handler = handlerFor(processRuntime);
