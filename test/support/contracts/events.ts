import type { ContractEvent, ServiceEvent } from '../../../lib/contracts/events';

/** The contract state events among everything published (the bus also carries NotificationUnhandled). */
export function contractEvents(events: readonly ServiceEvent[]): ContractEvent[] {
  return events.filter((e): e is ContractEvent => e.type !== 'NotificationUnhandled');
}
