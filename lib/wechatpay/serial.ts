/**
 * A certificate serial as WeChat Pay prints it in `Wechatpay-Serial`: upper-case hex without the leading zero
 * bytes that DER keeps on serials whose top bit is set (Node's `X509Certificate.serialNumber` shows them).
 */
export const canonicalSerial = (hex: string): string => hex.toUpperCase().replace(/^(?:00)+(?=.)/, '');
