import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  nextRun,
  parseScheduleExpression,
  ScheduleExpressionError,
} from '../../../../infra/local/schedule-expression';

const at = (iso: string) => Date.parse(iso);
const next = (expression: string, after: string, options?: Parameters<typeof nextRun>[2]) => {
  const when = nextRun(parseScheduleExpression(expression), at(after), options);
  return when === undefined ? undefined : new Date(when).toISOString();
};

describe('schedule expressions (rate and cron, as EventBridge reads them)', () => {
  it('reads every schedule of serverless.yml', () => {
    assert.deepEqual(parseScheduleExpression('rate(5 minutes)'), {
      kind: 'rate',
      text: 'rate(5 minutes)',
      periodMs: 300_000,
    });
    assert.equal((parseScheduleExpression('rate(6 hours)') as { periodMs: number }).periodMs, 21_600_000);
    assert.equal((parseScheduleExpression('rate(1 day)') as { periodMs: number }).periodMs, 86_400_000);
  });

  it('runs a rate every period from the moment the rule was created, strictly after the given time', () => {
    const originMs = at('2026-12-01T10:00:00Z');
    assert.equal(next('rate(5 minutes)', '2026-12-01T10:00:00Z', { originMs }), '2026-12-01T10:05:00.000Z');
    assert.equal(next('rate(5 minutes)', '2026-12-01T10:07:30Z', { originMs }), '2026-12-01T10:10:00.000Z');
    assert.equal(next('rate(5 minutes)', '2026-12-01T10:10:00Z', { originMs }), '2026-12-01T10:15:00.000Z');
    assert.equal(next('rate(6 hours)', '2026-12-03T01:00:00Z', { originMs }), '2026-12-03T04:00:00.000Z');
  });

  it('refuses rates EventBridge refuses, saying why', () => {
    for (const [text, why] of [
      ['rate(1 minutes)', /use "minute" for a value of 1 and "minutes" otherwise/],
      ['rate(5 minute)', /use "minute" for a value of 1/],
      ['rate(0 hours)', /the rate value must be 1 or more/],
      ['rate(5 weeks)', /minute\(s\)\|hour\(s\)\|day\(s\)/],
      ['rate(1.5 hours)', /whole number/],
      ['at(2026-12-01T10:00:00)', /use rate\(\.\.\.\) or cron\(\.\.\.\)/],
    ] as const) {
      assert.throws(
        () => parseScheduleExpression(text),
        (e: Error) => {
          assert.ok(e instanceof ScheduleExpressionError, text);
          assert.ok(e.message.startsWith(`${text}: `), e.message);
          assert.match(e.message, why);
          return true;
        },
      );
    }
  });

  it('runs a cron on the minute, hour, day and month it names, in UTC by default', () => {
    assert.equal(next('cron(0 3 * * ? *)', '2026-12-01T10:07:30Z'), '2026-12-02T03:00:00.000Z');
    assert.equal(next('cron(0 3 * * ? *)', '2026-12-01T02:59:59Z'), '2026-12-01T03:00:00.000Z');
    assert.equal(next('cron(0 3 * * ? *)', '2026-12-01T03:00:00Z'), '2026-12-02T03:00:00.000Z');
    assert.equal(next('cron(0/15 * * * ? *)', '2026-12-01T10:07:30Z'), '2026-12-01T10:15:00.000Z');
    assert.equal(next('cron(5,35 8-9 * * ? *)', '2026-12-01T09:40:00Z'), '2026-12-02T08:05:00.000Z');
    assert.equal(next('cron(0 0 1 JAN,JUL ? *)', '2026-12-01T00:00:00Z'), '2027-01-01T00:00:00.000Z');
    assert.equal(next('cron(0 0 29 FEB ? *)', '2026-03-01T00:00:00Z'), '2028-02-29T00:00:00.000Z');
  });

  it('reads day-of-week 1-7 as Sunday-Saturday, and names too', () => {
    // 2026-12-01 is a Tuesday.
    assert.equal(next('cron(0 12 ? * MON-FRI *)', '2026-12-04T13:00:00Z'), '2026-12-07T12:00:00.000Z');
    assert.equal(next('cron(0 12 ? * 1 *)', '2026-12-01T00:00:00Z'), '2026-12-06T12:00:00.000Z');
    assert.equal(next('cron(0 12 ? * 7 *)', '2026-12-01T00:00:00Z'), '2026-12-05T12:00:00.000Z');
  });

  it('knows L, LW, nW, n#k and nL', () => {
    assert.equal(next('cron(0 0 L * ? *)', '2027-02-01T00:00:00Z'), '2027-02-28T00:00:00.000Z');
    // 2027-07-31 is a Saturday: its last weekday is Friday the 30th.
    assert.equal(next('cron(0 0 LW * ? *)', '2027-07-01T00:00:00Z'), '2027-07-30T00:00:00.000Z');
    // The 1st of May 2027 is a Saturday: 1W moves forward to Monday the 3rd, not back into April.
    assert.equal(next('cron(0 0 1W * ? *)', '2027-04-02T00:00:00Z'), '2027-05-03T00:00:00.000Z');
    // The 15th of May 2027 is a Saturday: 15W is Friday the 14th.
    assert.equal(next('cron(0 0 15W * ? *)', '2027-05-04T00:00:00Z'), '2027-05-14T00:00:00.000Z');
    // The third Friday of December 2026, and its last Thursday.
    assert.equal(next('cron(0 10 ? * 6#3 *)', '2026-12-01T00:00:00Z'), '2026-12-18T10:00:00.000Z');
    assert.equal(next('cron(0 10 ? * THUL *)', '2026-12-01T00:00:00Z'), '2026-12-31T10:00:00.000Z');
  });

  it('honours the year field and ends when its years are past', () => {
    assert.equal(next('cron(0 0 1 1 ? 2028-2030)', '2026-12-01T00:00:00Z'), '2028-01-01T00:00:00.000Z');
    assert.equal(next('cron(0 0 1 1 ? 2020)', '2026-12-01T00:00:00Z'), undefined);
  });

  it('runs on the wall clock of a time zone (EventBridge Scheduler), across DST changes', () => {
    // Beijing has no DST: midnight there is 16:00 UTC the day before.
    assert.equal(
      next('cron(0 0 * * ? *)', '2026-12-01T10:00:00Z', { timeZone: 'Asia/Shanghai' }),
      '2026-12-01T16:00:00.000Z',
    );
    // New York springs forward at 02:00 on 2026-03-08: 02:30 does not exist and runs just after the gap.
    assert.equal(
      next('cron(30 2 * * ? *)', '2026-03-08T00:00:00Z', { timeZone: 'America/New_York' }),
      '2026-03-08T07:30:00.000Z',
    );
    // It falls back at 02:00 on 2026-11-01: 01:30 happens twice and runs at the first.
    assert.equal(
      next('cron(30 1 * * ? *)', '2026-11-01T04:00:00Z', { timeZone: 'America/New_York' }),
      '2026-11-01T05:30:00.000Z',
    );
    assert.equal(
      next('cron(30 1 * * ? *)', '2026-11-01T05:30:00Z', { timeZone: 'America/New_York' }),
      '2026-11-02T06:30:00.000Z',
    );
  });

  it('refuses crons EventBridge refuses, naming the field and the rule', () => {
    for (const [text, why] of [
      ['cron(0 3 * * ?)', /cron takes 6 fields/],
      ['cron(0 3 * * * *)', /exactly one of day-of-month and day-of-week must be "\?"/],
      ['cron(0 3 ? * ? *)', /exactly one of day-of-month and day-of-week must be "\?"/],
      ['cron(60 3 * * ? *)', /minutes "60": "60" is not in 0-59/],
      ['cron(0 24 * * ? *)', /hours "24": "24" is not in 0-23/],
      ['cron(0 3 32 * ? *)', /day-of-month "32"/],
      ['cron(0 3 * 13 ? *)', /month "13": "13" is not in 1-12 or a name/],
      ['cron(0 3 * XYZ ? *)', /month "XYZ"/],
      ['cron(0 3 ? * 8 *)', /day-of-week "8"/],
      ['cron(0 3 ? * 2#6 *)', /the week after # is 1 to 5/],
      ['cron(0 3 5-1 * ? *)', /"5-1" is not a value or a rising range/],
      ['cron(*/0 3 * * ? *)', /a step must be 1 or more/],
      ['cron(0 3 * * ? 1969)', /year "1969"/],
    ] as const) {
      assert.throws(
        () => parseScheduleExpression(text),
        (e: Error) => {
          assert.ok(e instanceof ScheduleExpressionError, text);
          assert.match(e.message, why, text);
          return true;
        },
      );
    }
  });
});
