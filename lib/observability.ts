import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** Keys whose values are personal data: never serialised into a log line, whatever object carries them. */
const REDACTED_KEYS = new Set(['real_name', 'identity_id', 'openid', 'real_identity']);

export const redact = (key: string, value: unknown): unknown =>
  REDACTED_KEYS.has(key) ? '[REDACTED]' : value;

const serviceName = 'wechatpay-credit-repayment';

// Powertools reads POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL / POWERTOOLS_METRICS_NAMESPACE itself;
// these are defaults for local runs, not a second place that reads configuration.
// Tracing is Lambda's active tracing alone (docs/deploy.md, "Tracing"): no tracer runs in the process, so nothing
// of ours reaches X-Ray; each log line carries the invocation's trace id (xray_trace_id) instead.
export const logger = new Logger({ serviceName, jsonReplacerFn: redact });
export const metrics = new Metrics({ serviceName, namespace: 'WechatPayCreditRepayment' });
