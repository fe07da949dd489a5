import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoNotificationStore } from '../../../../lib/aws/dynamo-notification-store';
import type { ContractRecord } from '../../../../lib/contracts/model';
import type { NotificationRecord } from '../../../../lib/contracts/ports';
import { DependencyUnavailable } from '../../../../lib/errors';

const NOTIFICATION: NotificationRecord = {
  id: 'N1',
  event_type: 'CREDIT_REPAYMENT.SIGN_CONTRACT',
  create_time: '2026-11-27T10:00:00+08:00',
  out_contract_code: 'C1',
  outcome: 'APPLIED',
  received_at: '2026-11-27T02:00:00.000Z',
  expires_at_epoch: 1_800_000_000,
};

const NEXT: ContractRecord = {
  out_contract_code: 'C1',
  state: 'SIGNED',
  appid: 'wxd678efh567hg6787',
  plan_id: '123',
  display_name: '**丰',
  repayment_amount_limit: '10000',
  created_at: '2026-11-27T01:00:00.000Z',
  updated_at: '2026-11-27T02:00:00.000Z',
  version: 3,
};

/** A store whose every DynamoDB call fails with `error`, as DynamoDB answers it. */
const failingWith = (error: Error) =>
  new DynamoNotificationStore(
    {
      send: async () => {
        throw error;
      },
    } as unknown as DynamoDBDocumentClient,
    'notifications',
    'contracts',
  );

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

describe('DynamoNotificationStore: what a refused write means', () => {
  it('the notification id already recorded: duplicate', async () => {
    assert.equal(
      await failingWith(cancelled('ConditionalCheckFailed', 'None')).record(NOTIFICATION, NEXT),
      'duplicate',
    );
    assert.equal(
      await failingWith(cancelled('ConditionalCheckFailed', 'ConditionalCheckFailed')).record(
        NOTIFICATION,
        NEXT,
      ),
      'duplicate',
    );
    const put = new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
    });
    assert.equal(await failingWith(put).record(NOTIFICATION), 'duplicate');
  });

  it('the contract moved since it was read: conflict', async () => {
    assert.equal(
      await failingWith(cancelled('None', 'ConditionalCheckFailed')).record(NOTIFICATION, NEXT),
      'conflict',
    );
  });

  it('another transaction in flight on either item (concurrent deliveries): conflict, not a store failure', async () => {
    for (const codes of [
      ['TransactionConflict', 'None'],
      ['None', 'TransactionConflict'],
      ['TransactionConflict', 'TransactionConflict'],
    ]) {
      assert.equal(
        await failingWith(cancelled(...codes)).record(NOTIFICATION, NEXT),
        'conflict',
        String(codes),
      );
    }
    const put = Object.assign(new Error('Transaction is ongoing for the item'), {
      name: 'TransactionConflictException',
    });
    assert.equal(await failingWith(put).record(NOTIFICATION), 'conflict');
  });

  it('anything else is DependencyUnavailable (500, so WeChat Pay retries)', async () => {
    for (const error of [
      cancelled('None', 'ThrottlingError'),
      cancelled('ValidationError', 'None'),
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
    ]) {
      await assert.rejects(failingWith(error).record(NOTIFICATION, NEXT), DependencyUnavailable);
    }
  });
});
