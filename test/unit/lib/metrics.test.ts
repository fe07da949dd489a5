import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, describe, it, mock } from 'node:test';
import { METRICS, recordMetric } from '../../../lib/metrics';
import { metrics } from '../../../lib/observability';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** The README "Metrics" table as [name, meaning] rows. */
function readmeRows(): [string, string][] {
  const section = README.split(/^## /m).find((s) => s.startsWith('Metrics\n')) ?? '';
  return [...section.matchAll(/^\| `(\w+)` \| (.+) \|$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']);
}

describe('the metric catalogue', () => {
  afterEach(() => mock.restoreAll());

  it('the README lists every metric, in the catalogue’s order and words, and no other', () => {
    const expected = Object.entries(METRICS).map(([name, { unit, meaning }]): [string, string] => [
      name,
      unit === 'Milliseconds' ? `${meaning} (ms)` : meaning,
    ]);
    assert.ok(expected.length > 10);
    assert.deepEqual(readmeRows(), expected);
  });

  it('records a data point in the unit the catalogue gives the metric', () => {
    const added = mock.method(metrics, 'addMetric', () => metrics);
    recordMetric('CallbackApplied');
    recordMetric('WechatPayLatency', 12.5);
    assert.deepEqual(
      added.mock.calls.map((c) => c.arguments),
      [
        ['CallbackApplied', 'Count', 1],
        ['WechatPayLatency', 'Milliseconds', 12.5],
      ],
    );
  });
});
