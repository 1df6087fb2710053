import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrrProcess, findFrr } from '../../src/router/frr/frr-process.js';

/**
 * `describe` when FRR is installed (bgpd, vtysh). Without it: a loud skip, except in CI (`CI=true`) or with
 * `PEERING_REQUIRE_FRR=1`, where the missing daemon is a failing test (CI installs it through setup.sh).
 */
export function describeWithFrr(name: string, body: () => void): void {
  if (findFrr() !== undefined) {
    describe(name, body);
    return;
  }
  const message =
    'FRR is not installed (/usr/lib/frr/bgpd, vtysh): run scripts/setup.d/21-frr.sh, or apt-get install frr';
  if (process.env.CI === 'true' || process.env.PEERING_REQUIRE_FRR === '1') {
    describe(name, () => {
      it('needs FRR, which CI installs', () => {
        throw new Error(message);
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPING "${name}": ${message} ***\n`);
  describe.skip(`${name} (no FRR)`, () => undefined);
}

/** Route-maps the FRR tests name: `peer_in` accepts everything, `peer_out` sends everything (AS-path loop
 * detection keeps a peer's own routes from coming back to it). */
export const TEST_POLICY = `
route-map peer_in permit 10
exit
route-map peer_out permit 10
exit
`;

/** One bgpd in a fresh temporary folder (short: the vty socket path must fit in 108 bytes); `stop` removes it. */
export async function startFrr(options: {
  asn: number;
  address: string;
  port: number;
  announce?: readonly string[];
  name?: string;
  policy?: string;
}): Promise<FrrProcess & { remove(): Promise<void> }> {
  const name = options.name ?? `frr-${options.asn}`;
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const frr = await FrrProcess.start({ ...options, name, dir, policy: options.policy ?? TEST_POLICY });
  return Object.assign(frr, {
    remove: async () => {
      await frr.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
