import type { WechatPayGateway } from '../../../lib/contracts/ports';
import type { WechatPayResponse } from '../../../lib/wechatpay/client';

/**
 * A WeChat Pay gateway double for unit tests of one use case: `methods` as given (extra fields the test reads
 * stay on the object); any other gateway method rejects, naming itself, so a use case that calls what it should
 * not fails its test.
 */
export function gatewayDouble<T extends Partial<WechatPayGateway>>(methods: T): WechatPayGateway & T {
  const unexpected = (name: string) => new Error(`unexpected WeChat Pay gateway call: ${name}`);
  return {
    sign: async () => Promise.reject(unexpected('sign')),
    send: async () => Promise.reject(unexpected('send')),
    call: async () => Promise.reject(unexpected('call')),
    encrypt: () => {
      throw unexpected('encrypt');
    },
    ...methods,
  };
}

/** A verified 2xx answer whose JSON body is `body`, as the client hands it over. */
export function jsonResponse(body: unknown, requestId = 'req'): WechatPayResponse {
  return {
    status: 200,
    requestId,
    headers: new Headers(),
    body: Buffer.from(JSON.stringify(body)),
    json: <J>() => body as J,
  };
}
