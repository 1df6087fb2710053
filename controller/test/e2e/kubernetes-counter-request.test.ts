import { counterRequestScenario } from './support/counter-scenario.js';
import { describeKubeLab } from './support/kube-lab.js';

// The counter-request of counter-request.test.ts on the real API server: each operator as its ServiceAccount with
// the chart's RBAC, which must let it create the counter-request.
describeKubeLab(
  'the counter-request (return_url) on Kubernetes: AS64500 asks for IPv4, AS64501 asks back for IPv6',
  { counterRequests: true },
  counterRequestScenario,
);
