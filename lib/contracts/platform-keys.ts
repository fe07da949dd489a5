import type { PlatformCertificate } from '../wechatpay/certificates';
import type { Clock, PlatformCertificateSet, PlatformKeyStore } from './ports';

/**
 * Download (which verifies), then store, what the schedule and an unknown callback serial both run. The stored
 * set is the download's, not a union with the previous one: WeChat Pay lists every certificate still in use, and
 * one it stopped listing must stop verifying.
 */
export async function refreshPlatformCertificates(deps: {
  download: () => Promise<PlatformCertificate[]>;
  store: PlatformKeyStore;
  clock: Clock;
}): Promise<PlatformCertificateSet> {
  const certificates = await deps.download();
  const set = { certificates, downloaded_at: new Date(deps.clock()).toISOString() };
  await deps.store.save(set);
  return set;
}

/** Those of `certificates` that have not expired at `now` (epoch ms). */
export function unexpired(certificates: PlatformCertificate[], now: number): PlatformCertificate[] {
  return certificates.filter((c) => Date.parse(c.not_after) > now);
}
