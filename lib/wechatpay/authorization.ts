import { requestMessage } from './signature';
import type { Signer } from './signer';

export interface MerchantCredentials {
  /** The service provider's merchant id. */
  mchid: string;
  /** Serial of the merchant API certificate (not the WeChat Pay key id). */
  serialNo: string;
  signer: Signer;
}

const AUTHORIZATION_SCHEME = 'WECHATPAY2-SHA256-RSA2048';

/** The `Authorization` header value for one request; `url` is the canonical path + query as sent. */
export async function authorization(
  creds: MerchantCredentials,
  req: { method: string; url: string; body: string; timestamp: string; nonce: string },
): Promise<string> {
  const signature = await creds.signer.sign(
    requestMessage(req.method, req.url, req.timestamp, req.nonce, req.body),
  );
  return (
    `${AUTHORIZATION_SCHEME} mchid="${creds.mchid}",nonce_str="${req.nonce}",signature="${signature}",` +
    `timestamp="${req.timestamp}",serial_no="${creds.serialNo}"`
  );
}
