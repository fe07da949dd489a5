'use strict';
// Deploy parameters that CloudFormation cannot take apart itself, turned into template values while osls resolves
// variables (serverless.yml and infra/aws/alerts.yml include them as ${file(infra/aws/alert-params.cjs):…}).

const DAY_MS = 24 * 60 * 60 * 1000;
/** How long before the merchant API certificate expires the reminder fires: time to apply for and roll out a new one. */
const RENEWAL_LEAD_DAYS = 30;

/**
 * `alarmSubscribers`: comma-separated endpoints of the alert topic. An e-mail address, an https:// URL, or the
 * ARN of an SQS queue or a Lambda function; anything else is refused by name.
 */
function subscriptions(list) {
  return String(list ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((Endpoint) => {
      if (/^https:\/\//.test(Endpoint)) return { Protocol: 'https', Endpoint };
      if (/^arn:aws[a-z-]*:sqs:/.test(Endpoint)) return { Protocol: 'sqs', Endpoint };
      if (/^arn:aws[a-z-]*:lambda:/.test(Endpoint)) return { Protocol: 'lambda', Endpoint };
      if (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(Endpoint)) return { Protocol: 'email', Endpoint };
      throw new Error(
        `alarmSubscribers: "${Endpoint}" is neither an e-mail address, an https:// URL, nor an SQS queue or Lambda ARN`,
      );
    });
}

/**
 * `merchantCertificateNotAfter` (the certificate's notAfter, ISO 8601) becomes the EventBridge Scheduler
 * expression of the renewal reminder, RENEWAL_LEAD_DAYS earlier. A reminder already due fires a minute after the
 * deploy: the certificate expires within the lead time and renewal cannot wait.
 */
function renewalReminder(notAfter, now = Date.now()) {
  const expires = Date.parse(String(notAfter ?? ''));
  if (Number.isNaN(expires)) {
    throw new Error(
      `merchantCertificateNotAfter: "${notAfter}" is not a date; give the certificate's notAfter in ISO 8601 (docs/deploy.md)`,
    );
  }
  const at = Math.max(expires - RENEWAL_LEAD_DAYS * DAY_MS, now + 60_000);
  return `at(${new Date(at).toISOString().slice(0, 19)})`;
}

module.exports = {
  subscriptions: async ({ resolveVariable }) =>
    subscriptions(await resolveVariable('param:alarmSubscribers')),
  renewalReminder: async ({ resolveVariable }) =>
    renewalReminder(await resolveVariable('param:merchantCertificateNotAfter')),
  parse: { subscriptions, renewalReminder, RENEWAL_LEAD_DAYS },
};
