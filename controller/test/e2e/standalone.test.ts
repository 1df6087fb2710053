import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTwoNetworks, type TwoNetworks } from '../../src/demo/two-networks.js';
import { describeWithBird } from '../support/bird.js';
import { EXAMPLES_DIR } from '../support/sample.js';
import { peeringScenario } from './support/scenario.js';

// Two networks on one machine, standalone (embedded SQLite store): each with its own BIRD on its own loopback
// address, its own operator and Peering API, JWTs from the local issuer, the demo's PeeringDB fixture.
describeWithBird('end to end, standalone: AS64500 peers with AS64501 over real BGP', () => {
  let workDir: string;
  let lab: TwoNetworks | undefined;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'po-e2e-'));
    lab = await startTwoNetworks({ workDir, examplesDir: EXAMPLES_DIR });
  });
  afterAll(async () => {
    await lab?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  peeringScenario('standalone', () => lab as TwoNetworks);
});
