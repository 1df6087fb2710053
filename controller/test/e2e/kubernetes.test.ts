import { describeKubeLab } from './support/kube-lab.js';
import { peeringScenario } from './support/scenario.js';

// The same two networks as standalone.test.ts, each operator on the real API server in a namespace of its own,
// authenticated as its ServiceAccount with the chart's RBAC; PeeringRequest and Secret go in with kubectl.
describeKubeLab('end to end on Kubernetes: AS64500 peers with AS64501 over real BGP', {}, (lab) =>
  peeringScenario('kubernetes', lab),
);
