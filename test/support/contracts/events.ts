import type { ContractEvent } from '../../../lib/contracts/events';
import { isRepaymentEvent, type ServiceEvent } from '../../../lib/repayments/events';

/** The contract state events among everything published (the bus also carries repayments' and NotificationUnhandled). */
export function contractEvents(events: readonly ServiceEvent[]): ContractEvent[] {
  return events.filter((e): e is ContractEvent => !isRepaymentEvent(e));
}
