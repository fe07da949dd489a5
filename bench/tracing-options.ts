/** The tracing options whose cost per presign bench/tracing.ts measures, one fresh process each. */
export const TRACING_OPTIONS = [
  'before_handler',
  'handler_loaded',
  'opentelemetry_span',
  'xray_sdk_loaded',
] as const;
export type TracingOption = (typeof TRACING_OPTIONS)[number];
