import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import alertParams from '../../../infra/aws/alert-params.cjs';

// infra/aws/alert-params.cjs: the deploy parameters CloudFormation cannot take apart itself.
const { subscriptions, renewalReminder, RENEWAL_LEAD_DAYS } = alertParams.parse;

describe('alarm subscribers', () => {
  it('turns a comma-separated list into one subscription per endpoint, by kind', () => {
    assert.deepEqual(
      subscriptions(
        ' oncall@bank.example , https://hooks.bank.example/sns,arn:aws:sqs:ap-southeast-1:111122223333:alerts,arn:aws-cn:lambda:cn-north-1:111122223333:function:pager',
      ),
      [
        { Protocol: 'email', Endpoint: 'oncall@bank.example' },
        { Protocol: 'https', Endpoint: 'https://hooks.bank.example/sns' },
        { Protocol: 'sqs', Endpoint: 'arn:aws:sqs:ap-southeast-1:111122223333:alerts' },
        { Protocol: 'lambda', Endpoint: 'arn:aws-cn:lambda:cn-north-1:111122223333:function:pager' },
      ],
    );
  });

  it('gives no subscription for an empty list', () => {
    assert.deepEqual(subscriptions(''), []);
    assert.deepEqual(subscriptions(' , '), []);
  });

  it('refuses an endpoint of no known kind, naming it and the parameter', () => {
    assert.throws(() => subscriptions('oncall@bank.example,http://insecure.example'), {
      message: /alarmSubscribers: "http:\/\/insecure\.example" is neither/,
    });
  });
});

describe('merchant certificate renewal reminder', () => {
  const now = Date.parse('2026-12-01T00:00:00Z');

  it(`fires ${RENEWAL_LEAD_DAYS} days before the certificate's notAfter`, () => {
    assert.equal(renewalReminder('2031-06-30T08:00:00Z', now), 'at(2031-05-31T08:00:00)');
  });

  it('fires a minute after the deploy when the certificate expires within the lead time', () => {
    assert.equal(renewalReminder('2026-12-10T00:00:00Z', now), 'at(2026-12-01T00:01:00)');
  });

  it('refuses a value that is not a date, naming the parameter', () => {
    assert.throws(() => renewalReminder('next year', now), {
      message: /merchantCertificateNotAfter: "next year"/,
    });
  });
});
