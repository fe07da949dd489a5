import type { BookingRecord, TradeClaim, UnhandledNotification } from '../../../lib/repayments/model';
import type {
  BookingClaim,
  KeptNotificationStore,
  KeptPage,
  KeptSettlement,
  NotificationEffect,
  RepaymentNotificationRecord,
  RepaymentNotificationStore,
  RepaymentStore,
} from '../../../lib/repayments/ports';

type Item = BookingRecord | TradeClaim | UnhandledNotification;

/**
 * The repayments table and the notification ids in memory, with DynamoDB's conditional semantics (claims only
 * when absent, writes only on the expected version, transactions all or nothing); for unit tests.
 */
export class MemoryRepaymentStore
  implements RepaymentStore, RepaymentNotificationStore, KeptNotificationStore
{
  readonly items = new Map<string, Item>();
  readonly notifications = new Map<string, RepaymentNotificationRecord>();
  /** Every save and startOrder, in order: what a test asserts "nothing was written" with. */
  readonly writes: string[] = [];

  async claim(record: BookingRecord): Promise<BookingClaim> {
    const existing = this.items.get(record.pk) as BookingRecord | undefined;
    if (existing) return { claimed: false, existing: structuredClone(existing) };
    this.put(record);
    return { claimed: true };
  }

  async get(outRecordId: string): Promise<BookingRecord | undefined> {
    return this.read(`RECORD#${outRecordId}`) as BookingRecord | undefined;
  }

  async getTrade(outTradeNo: string): Promise<TradeClaim | undefined> {
    return this.read(`TRADE#${outTradeNo}`) as TradeClaim | undefined;
  }

  async save(next: BookingRecord): Promise<boolean> {
    if (!this.versionHolds(next)) return false;
    this.put(next);
    return true;
  }

  async startOrder(next: BookingRecord, trade: TradeClaim): Promise<'started' | 'trade_used' | 'conflict'> {
    if (this.items.has(trade.pk)) return 'trade_used';
    if (!this.versionHolds(next)) return 'conflict';
    this.put(trade);
    this.put(next);
    return 'started';
  }

  async listDue(shard: number, dueBy: string, limit: number): Promise<string[]> {
    return [...this.items.values()]
      .filter(
        (i): i is BookingRecord =>
          'poll_at' in i && i.poll_shard === String(shard) && String(i.poll_at) <= dueBy,
      )
      .sort((a, b) => String(a.poll_at).localeCompare(String(b.poll_at)))
      .slice(0, limit)
      .map((r) => r.out_record_id);
  }

  async record(
    notification: RepaymentNotificationRecord,
    effect: NotificationEffect,
  ): Promise<'recorded' | 'duplicate' | 'conflict'> {
    if (this.notifications.has(notification.id)) return 'duplicate';
    if (effect.booking && !this.versionHolds(effect.booking)) return 'conflict';
    if ([effect.trade, effect.unhandled].some((i) => i && this.items.has(i.pk))) return 'conflict';
    this.notifications.set(notification.id, structuredClone(notification));
    for (const item of [effect.booking, effect.trade, effect.unhandled]) if (item) this.put(item);
    return 'recorded';
  }

  /** The kept DEDUCTION_PAYs oldest first, `limit` a page; the cursor is the index of the next one. */
  async listKept(limit: number, cursor?: string): Promise<KeptPage> {
    const kept = [...this.items.values()]
      .filter((i): i is UnhandledNotification => i.pk.startsWith('NOTIFICATION#'))
      .sort((a, b) => a.received_at.localeCompare(b.received_at));
    const from = Number(cursor ?? 0);
    const notifications = structuredClone(kept.slice(from, from + limit));
    return from + limit < kept.length ? { notifications, cursor: String(from + limit) } : { notifications };
  }

  async settle(
    kept: UnhandledNotification,
    settlement: KeptSettlement,
    effect: Omit<NotificationEffect, 'unhandled'>,
  ): Promise<'recorded' | 'gone' | 'conflict'> {
    const id = this.notifications.get(kept.notification_id);
    if (!this.items.has(kept.pk) || id?.outcome !== 'UNHANDLED') return 'gone';
    if (effect.booking && !this.versionHolds(effect.booking)) return 'conflict';
    if (effect.trade && this.items.has(effect.trade.pk)) return 'conflict';
    this.items.delete(kept.pk);
    this.notifications.set(kept.notification_id, { ...id, ...settlement });
    for (const item of [effect.booking, effect.trade]) if (item) this.put(item);
    return 'recorded';
  }

  private versionHolds(next: BookingRecord): boolean {
    const stored = this.items.get(next.pk) as BookingRecord | undefined;
    return next.version === 1 ? stored === undefined : stored?.version === next.version - 1;
  }

  private put(item: Item): void {
    this.writes.push(item.pk);
    this.items.set(item.pk, structuredClone(item));
  }

  private read(pk: string): Item | undefined {
    const item = this.items.get(pk);
    return item && structuredClone(item);
  }
}
