/**
 * An answer the simulated WeChat Pay gives instead of a result. Rendered as
 * `{"code","message","detail"?}`.
 */
export class WechatError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: Record<string, unknown>,
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return this.detail
      ? { code: this.code, message: this.message, detail: this.detail }
      : { code: this.code, message: this.message };
  }
}

/** 400 PARAM_ERROR naming one field by JSON pointer (body) or parameter name (path/header). */
export function paramError(
  field: string,
  issue: string,
  value?: unknown,
  location: 'body' | 'path' | 'query' | 'header' = 'body',
): WechatError {
  const detail: Record<string, unknown> = { field, issue, location };
  if (value !== undefined) detail.value = value;
  return new WechatError(400, 'PARAM_ERROR', `参数错误: ${field} ${issue}`, detail);
}

export function invalidRequest(message: string): WechatError {
  return new WechatError(400, 'INVALID_REQUEST', message);
}

export function notFound(message: string): WechatError {
  return new WechatError(404, 'RESOURCE_NOT_EXISTS', message);
}

/** A /sandbox control refused: `{"code":"SANDBOX_ERROR","message"}`, never signed. */
export function sandboxError(
  message: string,
  status = 400,
): { status: number; json: Record<string, string> } {
  return { status, json: { code: 'SANDBOX_ERROR', message } };
}
