import type { WechatPayGateway } from '../contracts/ports';
import { WechatPayUnavailable } from '../errors';
import type { Pacer } from '../wechatpay/pacer';

/**
 * The WeChat Pay gateway of a paced job: a 429 (WeChat Pay's refusal for rate) slows the pacer as a KMS
 * ThrottlingException does through the PacedSigner, so the job backs off from whichever of the two limits it
 * meets first, and climbs back as its signatures go through.
 */
export function pacedGateway(gateway: WechatPayGateway, pacer: Pacer): WechatPayGateway {
  const observed = async <T>(call: Promise<T>): Promise<T> => {
    try {
      return await call;
    } catch (error) {
      if (error instanceof WechatPayUnavailable && error.status === 429) pacer.throttled();
      throw error;
    }
  };
  return {
    sign: (request) => gateway.sign(request),
    send: (signed, options) => observed(gateway.send(signed, options)),
    call: (request, options) => observed(gateway.call(request, options)),
    encrypt: (plaintext) => gateway.encrypt(plaintext),
  };
}
