import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTwoNetworks, type TwoNetworks } from '../../src/demo/two-networks.js';
import { describeWithBird } from '../support/bird.js';
import { EXAMPLES_DIR } from '../support/sample.js';
import { counterRequestScenario } from './support/counter-scenario.js';

// The draft's counter-request, standalone (embedded store); kubernetes-counter-request.test.ts runs the same on
// the real API server.
describeWithBird(
  'the counter-request (return_url), standalone: AS64500 asks for IPv4, AS64501 asks back for IPv6',
  () => {
    let workDir: string;
    let lab: TwoNetworks | undefined;

    beforeAll(async () => {
      workDir = mkdtempSync(join(tmpdir(), 'po-counter-'));
      lab = await startTwoNetworks({ workDir, examplesDir: EXAMPLES_DIR, counterRequests: true });
    });
    afterAll(async () => {
      await lab?.stop();
      rmSync(workDir, { recursive: true, force: true });
    });

    counterRequestScenario(() => lab as TwoNetworks);
  },
);
