import { counterRequestScenario } from './support/counter-scenario.js';
import { describeStandaloneLab } from './support/standalone-lab.js';

// The draft's counter-request, standalone (embedded store); kubernetes-counter-request.test.ts runs the same on
// the real API server.
describeStandaloneLab(
  'the counter-request (return_url), standalone: AS64500 asks for IPv4, AS64501 asks back for IPv6',
  { counterRequests: true },
  counterRequestScenario,
);
