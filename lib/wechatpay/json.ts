/** A parsed JSON object: what WeChat Pay's answers, callbacks and listings are before their fields are checked. */
export type JsonObject = Record<string, unknown>;

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
