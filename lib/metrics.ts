import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics } from './observability';

const count = (meaning: string) => ({ unit: MetricUnit.Count, meaning });
const milliseconds = (meaning: string) => ({ unit: MetricUnit.Milliseconds, meaning });

/**
 * Every metric the service emits (namespace WechatPayCreditRepayment), with what one data point means. Each also
 * carries the dimensions `service` and `stage` (STAGE); CallbackRejected adds `reason`. README "Metrics" lists
 * them; a test keeps the two in step.
 */
export const METRICS = {
  PresignCreated: count('a presign WeChat Pay accepted, answered 201'),
  PresignReplayed: count('an identical presign retry answered 200 from our record, WeChat Pay not called'),
  PresignConflicted: count('a presign refused with 409 CONTRACT_CODE_USED or PRESIGN_IN_PROGRESS'),
  PresignRejectedByWechatPay: count('a presign WeChat Pay refused (502 WECHATPAY_REJECTED)'),
  PresignStoreFailed: count(
    'WeChat Pay accepted a presign but our record was not updated (callback or reconcile settles it)',
  ),
  CallbackApplied: count('a verified callback recorded for the first time'),
  CallbackDuplicate: count('a redelivered callback whose notification id was already recorded'),
  CallbackForUnknownContract: count('a callback about a contract we had no record of, created from its data'),
  CallbackRejected: count(
    'a callback answered with an error; dimension reason: signature, decode, size or store',
  ),
  SyncRepaired: count(
    'a ?sync=true query (contract or repayment) whose WeChat Pay answer changed our record',
  ),
  ReconcileSettledSIGNED: count('contracts a reconcile run settled as SIGNED'),
  ReconcileSettledTERMINATED: count('contracts a reconcile run settled as TERMINATED'),
  ReconcileSettledEXPIRED: count('contracts a reconcile run settled as EXPIRED'),
  ReconcileFailed: count('contracts a reconcile run could not settle (the next run retries them)'),
  RepaymentBooked: count('a booking WeChat Pay accepted, answered 201'),
  RepaymentReplayed: count('an identical booking or deduct retry answered from our record, nothing new sent'),
  RepaymentConflicted: count(
    'a booking or deduct refused for its id or state (409 REPAYMENT_ID_USED, BOOKING_IN_PROGRESS, DEDUCTION_IN_PROGRESS, TRADE_NO_USED, REPAYMENT_STATE_CONFLICT)',
  ),
  RepaymentRejectedByWechatPay: count(
    'a booking or deduct order WeChat Pay refused (502 WECHATPAY_REJECTED)',
  ),
  RepaymentOutcomeUnknown: count(
    'a booking or deduct order whose answer was lost (503 WECHATPAY_UNAVAILABLE): the query settles it',
  ),
  DeductionSent: count('a deduct order WeChat Pay accepted (answered 200 or 202)'),
  RepaymentStoreFailed: count(
    'WeChat Pay answered a booking or deduct order but our record was not updated (the poll settles it)',
  ),
  NotificationUnhandled: count(
    'a verified callback kept unapplied (an unknown event type or state, or it did not match our records): an operator must look (alarm)',
  ),
  CallbackForUnknownOrder: count('a DEDUCTION_PAY for an order we did not create, recorded from its data'),
  RepaymentPollSettled: count('bookings a reconcile run settled from WeChat Pay’s answer'),
  RepaymentPollFailed: count('bookings a reconcile run could not ask WeChat Pay about (asked again later)'),
  RepaymentPollExhausted: count(
    'bookings whose 7-day polling window closed without a final answer: an operator must look (alarm)',
  ),
  RepaymentDayOrdered: count('deduct orders WeChat Pay accepted in one repayment-day page'),
  RepaymentDayThrottled: count(
    'throttles (KMS ThrottlingException, WeChat Pay 429) one repayment-day page met, each slowing it down',
  ),
  RepaymentDayOpenBookings: count(
    'bookings still due (SCHEDULED, auto_deduct) when a repayment-day run completed: a rerun must take them up (alarm above 0)',
  ),
  CommandSucceeded: count(
    'a command taken by queue or rule that succeeded (its CommandSucceeded event published)',
  ),
  CommandFailed: count(
    'a command taken by queue or rule that failed for good (its CommandFailed event published)',
  ),
  CommandRetried: count(
    'a command left on the queue for another delivery (a refusal a retry may fix, or the outcome not published)',
  ),
  EventsPublished: count(
    'events one publish invocation put on the bus, stored outbox entries included (zero included)',
  ),
  EventPublishFailed: count(
    'a stream record or outbox entry whose events could not be published (kept in the outbox; alarm)',
  ),
  EventsRepublished: count(
    'outbox entries published (a stored NotificationUnhandled, or one kept after a failure)',
  ),
  OutboxPending: count('outbox entries still unpublished after a sweep (zero included; alarm)'),
  PlatformCertificateDaysLeft: count('days until the latest platform certificate expires (alarm under ~30)'),
  DynamoDBLatency: milliseconds('one DynamoDB call, SDK retries included'),
  KmsLatency: milliseconds('one KMS call (Sign), SDK retries included'),
  EventBridgeLatency: milliseconds('one EventBridge PutEvents call, SDK retries included'),
  LambdaLatency: milliseconds("one Lambda Invoke of a command's owning function, its whole run included"),
  WechatPayLatency: milliseconds('one HTTP attempt to WeChat Pay'),
} as const;

export type MetricName = keyof typeof METRICS;
/** The metrics that time a dependency call. */
export type LatencyMetric = {
  [K in MetricName]: (typeof METRICS)[K]['unit'] extends typeof MetricUnit.Milliseconds ? K : never;
}[MetricName];

/** Adds one data point to `name`, in the unit the catalogue gives it. */
export function recordMetric(name: MetricName, value = 1): void {
  metrics.addMetric(name, METRICS[name].unit, value);
}
