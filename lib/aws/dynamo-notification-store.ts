import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  PutCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ContractRecord } from '../contracts/model';
import type { NotificationRecord, NotificationStore, OutboxEntry } from '../contracts/ports';
import { defaultSchedule, queuedItem, type Schedule } from './contract-queue';
import { dependencyUnavailable } from './dependency';
import { versionCondition } from './dynamo-contract-store';
import { indexPage } from './index-page';
import { outboxItem } from './outbox';

/**
 * The sparse index of UNHANDLED notifications: only they carry `unhandled`, so listing them reads nothing else.
 * Settling one removes the attribute, and with it the notification from the index.
 */
const UNHANDLED_INDEX = 'by_unhandled';
const UNHANDLED = 'UNHANDLED';

type Write = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * Notification ids in their own table, written in one transaction with the contract change they cause and the
 * events announced with them: either all commit or none, so a notification is applied at most once and never
 * half-applied, and what we could not act on is announced even if we die right after storing it.
 */
export class DynamoNotificationStore implements NotificationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly notificationsTable: string,
    private readonly contractsTable: string,
    /** Where the contract written with a notification goes in reconcile's queue, as for every contract write. */
    private readonly schedule: Schedule = defaultSchedule,
  ) {}

  async record(
    notification: NotificationRecord,
    next?: ContractRecord,
    announce: OutboxEntry[] = [],
  ): Promise<'recorded' | 'duplicate' | 'conflict'> {
    const putNotification = {
      TableName: this.notificationsTable,
      Item: notification.outcome === UNHANDLED ? { ...notification, unhandled: UNHANDLED } : notification,
      ConditionExpression: 'attribute_not_exists(id)',
    };
    const items: Write[] = [{ Put: putNotification }, ...this.writes(next, announce)];
    try {
      if (items.length === 1) await this.db.send(new PutCommand(putNotification));
      else await this.db.send(new TransactWriteCommand({ TransactItems: items }));
      return 'recorded';
    } catch (error) {
      const refused = refusal(error, 'duplicate');
      if (refused) return refused;
      throw dependencyUnavailable('DynamoDB', items.length > 1 ? 'TransactWriteItems' : 'PutItem', error);
    }
  }

  async listUnhandled(
    limit: number,
    cursor?: string,
  ): Promise<{ notifications: NotificationRecord[]; cursor?: string }> {
    const page = await indexPage(this.db, {
      table: this.notificationsTable,
      index: UNHANDLED_INDEX,
      key: 'unhandled',
      value: UNHANDLED,
      limit,
      ...(cursor ? { cursor } : {}),
    });
    const notifications = page.items.map(({ unhandled: _index, ...n }) => n as unknown as NotificationRecord);
    return page.cursor ? { notifications, cursor: page.cursor } : { notifications };
  }

  async settle(
    settled: NotificationRecord,
    next?: ContractRecord,
  ): Promise<'recorded' | 'gone' | 'conflict'> {
    const update = {
      TableName: this.notificationsTable,
      Key: { id: settled.id },
      UpdateExpression:
        'SET outcome = :outcome, out_contract_code = :code, settled_at = :settled, expires_at_epoch = :expires ' +
        'REMOVE unhandled',
      // Applied by someone else meanwhile: this apply is not the one that counts.
      ConditionExpression: 'unhandled = :unhandled',
      ExpressionAttributeValues: {
        ':outcome': settled.outcome,
        ':code': settled.out_contract_code,
        ':settled': settled.settled_at,
        ':expires': settled.expires_at_epoch,
        ':unhandled': UNHANDLED,
      },
    };
    try {
      if (!next) await this.db.send(new UpdateCommand(update));
      else {
        await this.db.send(
          new TransactWriteCommand({ TransactItems: [{ Update: update }, ...this.writes(next)] }),
        );
      }
      return 'recorded';
    } catch (error) {
      const refused = refusal(error, 'gone');
      if (refused) return refused;
      throw dependencyUnavailable('DynamoDB', next ? 'TransactWriteItems' : 'UpdateItem', error);
    }
  }

  /** The contract write (if any) and the outbox entries that commit with a notification. */
  private writes(next: ContractRecord | undefined, announce: OutboxEntry[] = []): Write[] {
    const contract: Write[] = next
      ? [
          {
            Put: {
              TableName: this.contractsTable,
              Item: queuedItem(next, this.schedule),
              ...versionCondition(next),
            },
          },
        ]
      : [];
    return [
      ...contract,
      ...announce.map((entry) => ({ Put: { TableName: this.contractsTable, Item: outboxItem(entry) } })),
    ];
  }
}

/**
 * What a refused write means: the notification's own condition failed (`onNotification`: already recorded, or
 * no longer UNHANDLED), or the contract moved or is being moved under us (`conflict`: re-read and try again).
 * DynamoDB cancels a transaction that meets another one in flight on the same item (`TransactionConflict`), e.g.
 * two deliveries of one notification at once: that is a conflict to retry at once, not a store failure to
 * answer 500 for. `undefined`: a real failure.
 */
function refusal<T extends 'duplicate' | 'gone'>(
  error: unknown,
  onNotification: T,
): T | 'conflict' | undefined {
  if (error instanceof TransactionCanceledException) {
    const codes = (error.CancellationReasons ?? []).map((r) => r.Code);
    if (codes[0] === 'ConditionalCheckFailed') return onNotification;
    if (codes[1] === 'ConditionalCheckFailed' || codes.includes('TransactionConflict')) return 'conflict';
    return undefined;
  }
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'ConditionalCheckFailedException') return onNotification;
  if (error.name === 'TransactionConflictException') return 'conflict';
  return undefined;
}
