import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startTwoNetworks,
  type TwoNetworks,
  type TwoNetworksOptions,
} from '../../../src/demo/two-networks.js';
import { describeWithBird } from '../../support/bird.js';
import { EXAMPLES_DIR } from '../../support/sample.js';

/**
 * A describe block around the two-network lab standalone (embedded stores, operators in this process, a BIRD
 * each), with `scenario` run on it; skipped loudly without BIRD (a failure under CI).
 */
export function describeStandaloneLab(
  name: string,
  options: Omit<TwoNetworksOptions, 'workDir' | 'examplesDir'>,
  scenario: (lab: () => TwoNetworks) => void,
): void {
  describeWithBird(name, () => {
    let workDir: string | undefined;
    let lab: TwoNetworks | undefined;

    beforeAll(async () => {
      workDir = mkdtempSync(join(tmpdir(), 'po-e2e-'));
      lab = await startTwoNetworks({ workDir, examplesDir: EXAMPLES_DIR, ...options });
    });
    afterAll(async () => {
      await lab?.stop();
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    scenario(() => lab as TwoNetworks);
  });
}
