import { describeWithFrr } from '../support/frr.js';
import { birdFrrScenario } from './support/bird-frr-scenario.js';
import { describeKubeLab } from './support/kube-lab.js';
import { describeStandaloneLab } from './support/standalone-lab.js';

// Issue 15: AS64500 on BIRD, AS64501 on FRR, with the operator's shipped timings (the lab's fast operator
// timings off; BGP timers stay the lab's), in both modes.
const SHIPPED = { sessions: undefined, queue: undefined, resyncMs: undefined };

describeWithFrr('BIRD and FRR', () => {
  describeStandaloneLab(
    'standalone: each operator drives its daemon in-process',
    { frr: true, operatorOptions: SHIPPED },
    (lab) => birdFrrScenario('standalone', lab),
  );
  describeKubeLab(
    'Kubernetes: one router agent per daemon, on the real API server',
    { frr: true, routerAgents: true, operatorOptions: SHIPPED },
    (lab) => birdFrrScenario('kubernetes', lab),
  );
});
