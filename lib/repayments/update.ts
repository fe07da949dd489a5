import { readDecideWrite } from '../contracts/conditional-write';
import type { StoreFailure } from '../contracts/presign';
import type { BookingRecord } from './model';
import type { RepaymentStore } from './ports';

/**
 * Records what a use case learned about a booking: `decide` computes the next record from the current one (or
 * undefined: nothing to write), and the write lands only on the version it was computed from. When a callback,
 * a poll or another request wrote first, the booking is read again and `decide` judges the new one. `known` is
 * the record the caller already holds, so the common case costs one write and no read.
 */
export function updateBooking(
  store: Pick<RepaymentStore, 'get' | 'save'>,
  known: BookingRecord,
  decide: (current: BookingRecord) => BookingRecord | undefined,
  what: string,
): Promise<BookingRecord> {
  let fresh: BookingRecord | undefined = known;
  return readDecideWrite<BookingRecord, BookingRecord, BookingRecord>(
    {
      read: async () => {
        const current = fresh ?? (await store.get(known.out_record_id));
        fresh = undefined;
        // Bookings are never deleted; were this one gone, say so rather than guess.
        if (!current) throw new Error(`repayment ${known.out_record_id} vanished while ${what}`);
        return current;
      },
      decide: (current) => {
        const next = decide(current);
        return next ? { write: next } : { done: current };
      },
      write: async (next) => ((await store.save(next)) ? next : undefined),
    },
    `repayment ${known.out_record_id} kept changing while ${what}`,
  );
}

/**
 * `updateBooking` for what a caller is answered from: when the store fails, the answer (`decide` applied to
 * `known`) is still returned, with the reason it was not recorded. The booking stays polled, so the query
 * settles it later.
 */
export async function noteBooking(
  store: Pick<RepaymentStore, 'get' | 'save'>,
  known: BookingRecord,
  decide: (current: BookingRecord) => BookingRecord | undefined,
  what: string,
): Promise<{ record: BookingRecord; storeFailure?: StoreFailure }> {
  try {
    return { record: await updateBooking(store, known, decide, what) };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { record: decide(known) ?? known, storeFailure: { reason: `not recorded when ${what}: ${why}` } };
  }
}
