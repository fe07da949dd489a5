import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RETRY_DELAYS_S, redeliveryDelay, redeliveryDelays } from '../../../../lib/commands/backoff';

const middle = () => 0.5;

describe('redeliveryDelay', () => {
  it('15, 60, 240, 600 s after receives 1 to 4 of 5; nothing on the last', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => redeliveryDelay(n, 5, middle)),
      [15, 60, 240, 600, undefined],
    );
  });

  it('spans about the 4 × 240 s the queue alone took before the last receive', () => {
    const window = [1, 2, 3, 4].reduce((sum, n) => sum + (redeliveryDelay(n, 5, middle) ?? 0), 0);
    assert.equal(window, 915);
    assert.ok(Math.abs(window - 4 * 240) <= 60, `${window} s`);
  });

  it('jitters by ±20 %, in whole seconds', () => {
    assert.deepEqual(
      RETRY_DELAYS_S.map((_, i) => [
        redeliveryDelay(i + 1, 5, () => 0),
        redeliveryDelay(i + 1, 5, () => 0.999999),
      ]),
      [
        [12, 18],
        [48, 72],
        [192, 288],
        [480, 720],
      ],
    );
    for (let i = 0; i < 200; i++) assert.ok(Number.isInteger(redeliveryDelay(1, 5, Math.random)));
  });

  it('past the schedule the last delay holds; at or past maxReceiveCount nothing is set', () => {
    assert.deepEqual(
      [5, 9, 10, 11].map((n) => redeliveryDelay(n, 10, middle)),
      [600, 600, undefined, undefined],
    );
    assert.equal(redeliveryDelay(1, 1, middle), undefined, 'one receive only: it is the last');
  });
});

describe('redeliveryDelays', () => {
  it('on a standard queue each message by its own receive count; the last receive keeps the default', () => {
    const delays = redeliveryDelays(
      [
        { messageId: 'a', receiveCount: 1 },
        { messageId: 'b', receiveCount: 2 },
        { messageId: 'c', receiveCount: 5 },
      ],
      5,
      middle,
    );
    assert.deepEqual(
      [...delays],
      [
        ['a', 15],
        ['b', 60],
      ],
    );
  });

  it("in a FIFO group the messages held back unrun take the first one's delay, so the group comes back whole", () => {
    const delays = redeliveryDelays(
      [
        { messageId: 'a1', receiveCount: 2, groupId: 'A' },
        { messageId: 'b1', receiveCount: 1, groupId: 'B' },
        { messageId: 'a2', receiveCount: 1, groupId: 'A' },
        { messageId: 'a3', receiveCount: 4, groupId: 'A' },
        { messageId: 'c1', receiveCount: 5, groupId: 'C' },
        { messageId: 'c2', receiveCount: 1, groupId: 'C' },
      ],
      5,
      middle,
    );
    assert.deepEqual(
      [...delays],
      [
        ['a1', 60],
        ['b1', 15],
        ['a2', 60],
        ['a3', 60],
      ],
    );
  });
});
