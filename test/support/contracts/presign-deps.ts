import type { PresignDeps } from '../../../lib/contracts/presign';

/** The presign function's own Lambda timeout (29 s) plus the clock difference allowed between hosts. */
export const TEST_CLAIM_LEASE_MS = 39_000;

/** A use case's dependencies for unit tests: the store and the gateway given, the rest fixed unless overridden. */
export function presignTestDeps(
  parts: Pick<PresignDeps, 'store' | 'wechatpay' | 'clock'> & Partial<PresignDeps>,
): PresignDeps {
  return {
    notifyUrl: 'https://api.example/wechatpay/notifications',
    hashKeys: { current: Buffer.alloc(32, 7) },
    claimLeaseMs: TEST_CLAIM_LEASE_MS,
    appSubMerchantField: 'sub_mchid',
    ...parts,
  };
}
