import { generateKeyPairSync } from 'node:crypto';

/** A complete deployed-style environment: the public key in SSM, the APIv3 key in Secrets Manager. */
export const PUBLIC_KEY_PARAMETER = '/wechatpay-credit-repayment/test/wechatpay-public-key';
export const NEXT_PUBLIC_KEY_PARAMETER = '/wechatpay-credit-repayment/test/wechatpay-public-key-next';
export const APIV3_SECRET_ARN =
  'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:wechatpay-apiv3-key-AbCdEf';

export const REQUEST_HASH_SECRET_ARN =
  'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:wechatpay-request-hash-key-GhIjKl';

export const BASE_ENV = {
  WECHATPAY_MCHID: '1900000001',
  WECHATPAY_MERCHANT_SERIAL_NO: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
  WECHATPAY_PUBLIC_KEY_ID: 'PUB_KEY_ID_0114232134912410000000000000',
  WECHATPAY_PUBLIC_KEY: PUBLIC_KEY_PARAMETER,
  WECHATPAY_APIV3_KEY: APIV3_SECRET_ARN,
  WECHATPAY_NOTIFY_URL: 'https://example.com/wechatpay/notifications',
  CONTRACTS_TABLE: 'contracts',
  NOTIFICATIONS_TABLE: 'notifications',
  REPAYMENTS_TABLE: 'repayments',
  KEY_MATERIAL_MAX_AGE_S: '300',
  REQUEST_HASH_KEY: REQUEST_HASH_SECRET_ARN,
};

/** A fresh RSA public key, PEM (SPKI), as WeChat Pay publishes its own. */
export function publicKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
}
