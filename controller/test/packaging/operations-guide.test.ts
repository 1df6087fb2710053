import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiMetrics } from '../../src/api/metrics.js';
import { SESSION_STATUSES } from '../../src/domain/session.js';
import { REQUEST_PHASES } from '../../src/operator/resources/peering-request.js';
import { SESSION_CONDITIONS } from '../../src/operator/resources/peering-session.js';
import { OperatorMetrics } from '../../src/operator/runtime/metrics.js';
import { REPO_ROOT } from '../support/sample.js';

const guide = readFileSync(join(REPO_ROOT, 'docs/operations.md'), 'utf8');

/** The first cell of each row of the Markdown table that follows `heading`. */
function firstColumn(heading: string): string[] {
  const lines = guide.slice(guide.indexOf(heading)).split('\n');
  const start = lines.findIndex((line) => line.startsWith('|'));
  const end = lines.findIndex((line, i) => i > start && !line.startsWith('|'));
  return lines
    .slice(start + 2, end) // past the header row and the |---| row
    .map((line) => (line.split('|')[1] ?? '').trim().replace(/`/g, ''));
}

describe('operations guide (docs/operations.md)', () => {
  it('names only metrics the program exports, and every one of them', async () => {
    const exported = new Set<string>();
    for (const metrics of [new OperatorMetrics(), new ApiMetrics()]) {
      for (const metric of await metrics.registry.getMetricsAsJSON()) exported.add(metric.name);
    }
    const named = new Set(
      [...guide.matchAll(/\bpeering_(?:operator|api)_[a-z_]+/g)].map((m) =>
        m[0].replace(/_(bucket|sum|count)$/, ''),
      ),
    );
    expect([...named].filter((name) => !exported.has(name))).toEqual([]);
    expect([...exported].filter((name) => !named.has(name))).toEqual([]);
  });

  it('explains every session state, session condition and request phase', () => {
    expect(firstColumn('### PeeringSession: status').sort()).toEqual([...SESSION_STATUSES].sort());
    expect(firstColumn('### PeeringSession: conditions').sort()).toEqual([...SESSION_CONDITIONS].sort());
    expect(firstColumn('### PeeringRequest: phase and conditions').sort()).toEqual(
      [...REQUEST_PHASES].sort(),
    );
  });
});
