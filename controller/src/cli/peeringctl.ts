#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { PeeringApiError } from '../client/errors.js';
import { PeeringError } from '../domain/errors.js';
import { parse } from './peeringctl/context.js';
import { registerDelete } from './peeringctl/delete.js';
import { registerDescribe } from './peeringctl/describe.js';
import { ClusterReadError } from './peeringctl/describe-cluster.js';
import { registerDiscover } from './peeringctl/discover.js';
import { registerDpopKey } from './peeringctl/dpop-key.js';
import { EXIT_CODES_HELP, UsageError, exitCodeFor } from './peeringctl/exit-codes.js';
import { registerList } from './peeringctl/list.js';
import { registerLocations } from './peeringctl/locations.js';
import { registerLogin } from './peeringctl/login.js';
import { registerOpenapi } from './peeringctl/openapi.js';
import { OUTPUT_FORMATS } from './peeringctl/output.js';
import { registerRequest } from './peeringctl/request.js';
import { registerStatus } from './peeringctl/status.js';

/**
 * peeringctl: the initiator's command line for the Peering API. Flags speak from YOUR view: --local-asn is your
 * network, --peer-asn the remote one whose API --api-url names; the client turns that into the wire's reading.
 */
const program = new Command('peeringctl')
  .description(
    "Request and manage BGP sessions through a remote network's Peering API (draft-ramseyer-grow-peering-api)",
  )
  .option('--api-url <url>', "the remote network's Peering API, base path included (env PEERING_API_URL)")
  .option('--token <token>', 'a bearer token for it (env PEERING_API_TOKEN)')
  .option(
    '--token-file <file>',
    'the login of `peeringctl login`, used when no token is given (env PEERINGCTL_LOGIN_FILE)',
  )
  .option(
    '--dpop-key <file>',
    'DPoP (RFC 9449): bind tokens to the ES256 key in this JWK file (made, mode 0600, if absent) and prove it on every request (env PEERINGCTL_DPOP_KEY)',
  )
  .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
  .addOption(
    new Option('--timeout <duration>', 'time limit of each API call, retries included')
      .argParser(parse.duration)
      .default(60_000, '60s'),
  )
  .showHelpAfterError('(add --help for usage)')
  .exitOverride()
  .addHelpText(
    'after',
    `
Flags speak from your view: --local-asn is your network, --peer-asn the remote network whose Peering API
--api-url names. Tables go to stdout, progress and diagnostics to stderr; -o json|yaml for scripts.
\`describe\` reads the operator's resources from a Kubernetes cluster instead (--kubeconfig, -n).

${EXIT_CODES_HELP}

Examples:
  export PEERING_API_URL=https://peering.example.net/v0.1 PEERING_API_TOKEN=...
  peeringctl locations --peer-asn 64500
  peeringctl discover --local-asn 64501 --peer-asn 64500 --peeringdb-dir ./peeringdb
  peeringctl request --local-asn 64501 --peer-asn 64500 --location pdb:ix:1 --local-ip 192.0.2.2 --peer-ip 192.0.2.1
  peeringctl status --request-id change-4711 --watch
  peeringctl list --local-asn 64501 -o json
  peeringctl delete --peer-asn 64500 --location pdb:ix:1 --local-ip 192.0.2.2 --peer-ip 192.0.2.1
  peeringctl login --client-id my-peeringdb-oauth-app && peeringctl list --local-asn 64501
  peeringctl describe peeringrequest as64501 -n peering`,
  );

// `peeringctl list | head` closes our stdout early: that is the reader's choice, not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

registerLocations(program);
registerDiscover(program);
registerRequest(program);
registerStatus(program);
registerList(program);
registerDelete(program);
registerOpenapi(program);
registerLogin(program);
registerDpopKey(program);
registerDescribe(program);

program.parseAsync().catch((error: unknown) => {
  if (!(error instanceof CommanderError)) report(error);
  process.exitCode = error instanceof ClusterReadError ? error.exitCode : exitCodeFor(error);
});

function report(error: unknown): void {
  if (error instanceof UsageError) {
    process.stderr.write(`peeringctl: ${error.message}\n(add --help for usage)\n`);
    return;
  }
  if (!(error instanceof PeeringError)) {
    process.stderr.write(`peeringctl: ${error instanceof Error ? error.message : String(error)}\n`);
    return;
  }
  const where = error.field === 'request' ? '' : ` (${error.field})`;
  process.stderr.write(`peeringctl: ${error.code}${where}: ${error.message}\n`);
  if (error instanceof PeeringApiError) {
    for (const e of error.remoteErrors.slice(1)) {
      process.stderr.write(`  ${e.field}${e.code ? ` [${e.code}]` : ''}: ${e.errors.join('; ')}\n`);
    }
    if (error.traceId) process.stderr.write(`  (the peer's trace id: ${error.traceId})\n`);
  }
}
