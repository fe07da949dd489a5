import type { PlatformCertificate } from '../wechatpay/certificates';
import type { Clock } from '../wechatpay/clock';

export type { PlatformCertificate } from '../wechatpay/certificates';

/** One verified download of WeChat Pay's platform certificates. */
export interface PlatformCertificateSet {
  certificates: PlatformCertificate[];
  /** RFC 3339: when the listing was downloaded and verified. */
  downloaded_at: string;
}

/**
 * Where the last verified certificate set is kept for every function to read, so that a cold start does not
 * call WeChat Pay. Implementations throw `DependencyUnavailable` when the store cannot be reached.
 */
export interface PlatformKeyStore {
  load(): Promise<PlatformCertificateSet | undefined>;
  /** Replaces the stored set, unless a set downloaded later is already there (`'stale'`). */
  save(set: PlatformCertificateSet): Promise<'saved' | 'stale'>;
}

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
