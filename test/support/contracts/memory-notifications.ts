import type { ContractRecord } from '../../../lib/contracts/model';
import type { NotificationRecord, NotificationStore, OutboxEntry } from '../../../lib/contracts/ports';
import type { MemoryContractStore } from './memory-store';

/** Notification ids with the same all-or-nothing semantics as the DynamoDB transaction; announced entries kept. */
export class MemoryNotifications implements NotificationStore {
  readonly items = new Map<string, NotificationRecord>();
  /** The outbox entries written with the notifications, in order. */
  readonly announced: OutboxEntry[] = [];

  constructor(private readonly contracts: MemoryContractStore) {}

  async record(n: NotificationRecord, next?: ContractRecord, announce: OutboxEntry[] = []) {
    if (this.items.has(n.id)) return 'duplicate' as const;
    if (next && !(await this.contracts.save(next))) return 'conflict' as const;
    this.items.set(n.id, structuredClone(n));
    this.announced.push(...structuredClone(announce));
    return 'recorded' as const;
  }

  async listUnhandled(limit: number) {
    const notifications = [...this.items.values()]
      .filter((n) => n.outcome === 'UNHANDLED')
      .sort((a, b) => a.received_at.localeCompare(b.received_at))
      .slice(0, limit);
    return { notifications: structuredClone(notifications) };
  }

  async settle(settled: NotificationRecord, next?: ContractRecord) {
    if (this.items.get(settled.id)?.outcome !== 'UNHANDLED') return 'gone' as const;
    if (next && !(await this.contracts.save(next))) return 'conflict' as const;
    this.items.set(settled.id, structuredClone(settled));
    return 'recorded' as const;
  }
}
