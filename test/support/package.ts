import { type Packaged, packageTemplate } from '../../infra/package';

/** The deploy parameters without a default (serverless.yml `params`), as a real stage would pass them. */
export const PACKAGE_PARAMS = {
  wechatpayMchid: '1230000109',
  wechatpayMerchantSerialNo: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
  wechatpayPublicKeyId: 'PUB_KEY_ID_0114232134912410000000000000',
  wechatpayPublicKeySha256: 'b0a2c6f6a84a3c0aa4b0b0b5d6b2d5f4b8a2f9c1e3d5f7a9b1c3d5e7f9a1b3c5',
  merchantCertificateNotAfter: '2031-06-30T08:00:00Z',
  alarmSubscribers: 'payments-oncall@example.com,https://hooks.example.com/alerts',
  signingKeyAdminArn: 'arn:aws:iam::111122223333:role/kms-key-admin',
  signingKeyBreakGlassArn: 'arn:aws:iam::111122223333:role/break-glass',
};

/**
 * `serverless package --stage citest` with PACKAGE_PARAMS plus `extra`, offline. Cached (infra/package.ts): every
 * test file asking for the same parameters shares one packaging. The directory is shared: read it, never write.
 */
export function packaged<T>(extra: Record<string, string> = {}): Promise<Packaged<T>> {
  return packageTemplate<T>({ stage: 'citest', params: { ...PACKAGE_PARAMS, ...extra } });
}
