import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_WRITE_ATTEMPTS, readDecideWrite } from '../../../../lib/contracts/conditional-write';

/** A versioned cell that other writers bump `interference` times, each just before our write lands. */
function cell(interference: number) {
  const log: string[] = [];
  let version = 1;
  let left = interference;
  return {
    log,
    read: async () => {
      log.push(`read ${version}`);
      return version;
    },
    /** The conditional write: lands only on the version it was decided from. */
    write: async (next: number, readVersion: number) => {
      if (left > 0) {
        left--;
        version++;
      }
      if (version !== readVersion) {
        log.push(`conflict at ${readVersion}`);
        return undefined;
      }
      version = next;
      log.push(`wrote ${next}`);
      return `now ${next}`;
    },
  };
}

describe('readDecideWrite', () => {
  it('answers without writing when the decision needs no write', async () => {
    const c = cell(0);
    const result = await readDecideWrite(
      { read: c.read, decide: (v) => ({ done: `still ${v}` }), write: c.write },
      'cell kept changing',
    );
    assert.equal(result, 'still 1');
    assert.deepEqual(c.log, ['read 1']);
  });

  it('re-reads and decides again from the new value after someone else wrote first', async () => {
    const c = cell(2);
    const decided: number[] = [];
    const result = await readDecideWrite(
      {
        read: c.read,
        decide: (v) => {
          decided.push(v);
          return { write: v + 10 };
        },
        write: c.write,
      },
      'cell kept changing',
    );
    assert.deepEqual(decided, [1, 2, 3]);
    assert.equal(result, 'now 13');
    assert.deepEqual(c.log, ['read 1', 'conflict at 1', 'read 2', 'conflict at 2', 'read 3', 'wrote 13']);
  });

  it('may stop writing when a re-read shows there is nothing left to do', async () => {
    const c = cell(1);
    const result = await readDecideWrite(
      { read: c.read, decide: (v) => (v >= 2 ? { done: 'someone did it' } : { write: 2 }), write: c.write },
      'cell kept changing',
    );
    assert.equal(result, 'someone did it');
    assert.deepEqual(c.log, ['read 1', 'conflict at 1', 'read 2']);
  });

  it(`gives up after ${MAX_WRITE_ATTEMPTS} attempts, saying what kept changing`, async () => {
    const c = cell(Number.POSITIVE_INFINITY);
    await assert.rejects(
      readDecideWrite(
        { read: c.read, decide: (v) => ({ write: v + 1 }), write: c.write },
        'cell C1 kept changing',
      ),
      new Error(`cell C1 kept changing (${MAX_WRITE_ATTEMPTS} attempts)`),
    );
    assert.equal(c.log.filter((l) => l.startsWith('read')).length, MAX_WRITE_ATTEMPTS);
    assert.equal(c.log.filter((l) => l.startsWith('conflict')).length, MAX_WRITE_ATTEMPTS);
  });

  it('never retries a failure: a read, a decision or a write that throws ends it at once', async () => {
    const boom = new Error('store down');
    let reads = 0;
    const failing = async () => {
      reads++;
      throw boom;
    };
    await assert.rejects(
      readDecideWrite({ read: failing, decide: () => ({ done: 1 }), write: async () => 1 }, 'x'),
      boom,
    );
    await assert.rejects(
      readDecideWrite({ read: async () => 1, decide: () => ({ write: 1 }), write: failing }, 'x'),
      boom,
    );
    const refused = new Error('not allowed');
    await assert.rejects(
      readDecideWrite(
        {
          read: async () => 1,
          decide: () => {
            throw refused;
          },
          write: async () => 1,
        },
        'x',
      ),
      refused,
    );
    assert.equal(reads, 2);
  });
});
