#!/usr/bin/env node
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { DurationSchema, loadConfig } from '../config/config.js';
import { PeeringError } from '../domain/errors.js';
import { startApiRuntime } from '../api/runtime.js';
import { EXIT, stopOnSignal } from './signals.js';

const program = new Command('peering-operator')
  .description(
    'Peering API server and Kubernetes operator for automated BGP peering (draft-ramseyer-grow-peering-api)',
  )
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Exit codes: 0 success, 1 runtime failure, 2 usage error, 3 invalid configuration.

Examples:
  peering-operator serve --config examples/peering-operator.yaml
  peering-operator serve --config /etc/peering/config.yaml --listen 0.0.0.0:8080 --data-dir /var/lib/peering
  peering-operator demo
  peering-operator issuer --accounts examples/issuer-accounts.yaml --listen 127.0.0.1:9000`,
  );

program
  .command('serve')
  .description('Serve the Peering API on the embedded store (SQLite)')
  .requiredOption('-c, --config <file>', 'YAML configuration file')
  .option('-l, --listen <host:port>', 'listen address (overrides the configuration)', hostPort)
  .option('-d, --data-dir <dir>', 'folder of the embedded store (overrides the configuration)')
  .option('--log-level <level>', 'fatal, error, warn, info, debug', 'info')
  .addHelpText(
    'after',
    '\nExample:\n  peering-operator serve --config examples/peering-operator.yaml --listen 127.0.0.1:8080',
  )
  .action(async (options: { config: string; listen?: string; dataDir?: string; logLevel: string }) => {
    const config = await loadConfig(options.config);
    const runtime = await startApiRuntime(config, {
      configDir: dirname(resolve(options.config)),
      listen: options.listen,
      dataDir: options.dataDir,
      logger: { level: options.logLevel },
    });
    console.log(
      `peering-operator: Peering API for ${config.asns.map((a) => `AS${a}`).join(', ')} listening on ${runtime.baseUrl}`,
    );
    stopOnSignal(() => runtime.close());
  });

program
  .command('demo')
  .description(
    'Run the two-network demo: AS64500 and AS64501, each with its own BIRD and operator, peer through the ' +
      'Peering API and real BGP on loopback (standalone, no cluster; needs BIRD 2)',
  )
  .option(
    '--work-dir <dir>',
    'folder for configurations, stores, BIRD files and logs (default: a temporary one)',
  )
  .option('--keep', 'keep the folder when stopping')
  .option(
    '--api-port <port>',
    "AS64500's Peering API port; AS64501's is the next one (default 8500)",
    positiveInteger,
  )
  .option('--issuer-port <port>', 'the local issuer (default 9400)', positiveInteger)
  .option(
    '--bgp-port <port>',
    'BGP port of both BIRDs, on 127.0.0.2 and 127.0.0.3 (default 1790)',
    positiveInteger,
  )
  .addHelpText(
    'after',
    `
Ctrl-C stops everything the demo started. Default ports that are busy are replaced by free ones; ports given
must be free. See docs/demo.md.

Examples:
  npm run demo
  peering-operator demo --keep --work-dir /tmp/peering-demo`,
  )
  .action(
    async (options: {
      workDir?: string;
      keep?: boolean;
      apiPort?: number;
      issuerPort?: number;
      bgpPort?: number;
    }) => {
      const { runDemo } = await import('../demo/demo.js');
      const starting = runDemo({
        examplesDir: resolve(dirname(fileURLToPath(import.meta.url)), '../../../../examples'),
        workDir: options.workDir,
        keep: options.keep,
        ports: {
          apiA: options.apiPort,
          apiB: options.apiPort === undefined ? undefined : options.apiPort + 1,
          issuer: options.issuerPort,
          bgp: options.bgpPort,
        },
      });
      // Ctrl-C while it starts waits for the start, then stops everything started so far.
      stopOnSignal(async () => (await starting.catch(() => undefined))?.stop());
      await starting;
    },
  );

program
  .command('issuer')
  .description(
    'Run a local PeeringDB-like OAuth 2.0 / OpenID Connect issuer for tests and demos (not for production)',
  )
  .requiredOption('-a, --accounts <file>', 'YAML or JSON file of accounts and clients')
  .option('-l, --listen <host:port>', 'listen address', hostPort, '127.0.0.1:9000')
  .option('--public-url <origin>', 'origin clients see, when behind a proxy (default http://HOST:PORT)')
  .option('--access-token-ttl <seconds>', 'access token lifetime (PeeringDB: 36000)', positiveInteger)
  .addHelpText(
    'after',
    `
Serves PeeringDB's routes: /oauth2/.well-known/openid-configuration, /oauth2/authorize/, /oauth2/token/,
/oauth2/.well-known/jwks.json, /oauth2/introspect/, /oauth2/revoke_token/ and /profile/v1. Access tokens are
opaque (verify them with /profile/v1) unless the client sends resource=<API URL>: then they are RFC 9068 JWTs.

Example:
  peering-operator issuer --accounts examples/issuer-accounts.yaml --listen 127.0.0.1:9000`,
  )
  .action(
    async (options: { accounts: string; listen: string; publicUrl?: string; accessTokenTtl?: number }) => {
      const { loadIssuerFixture } = await import('../issuer/accounts.js');
      const { startIssuer } = await import('../issuer/issuer.js');
      const fixture = await loadIssuerFixture(options.accounts);
      const issuer = await startIssuer({
        fixture,
        listen: options.listen,
        publicOrigin: options.publicUrl,
        accessTokenTtlSeconds: options.accessTokenTtl,
        onError: (error) => console.error('peering-operator issuer:', error),
      });
      console.log(
        `peering-operator: PeeringDB-like issuer ${issuer.issuer} (profile: ${issuer.origin}/profile/v1)`,
      );
      console.log(
        `  accounts: ${fixture.accounts.map((a) => a.username).join(', ')}; clients: ${fixture.clients.map((c) => c.client_id).join(', ') || '(none)'}`,
      );
      stopOnSignal(() => issuer.stop());
    },
  );

function positiveInteger(value: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new InvalidArgumentError('expected a positive whole number');
  return Number(value);
}

program
  .command('run')
  .alias('operator')
  .description(
    'Run the operator: reconcile PeeringRequests and PeeringSessions and serve the Peering API on them ' +
      '(in-cluster by default, --kubeconfig for a cluster from outside, --standalone for the embedded store)',
  )
  .requiredOption('-c, --config <file>', 'YAML configuration file')
  .option('--kubeconfig <file>', "kubeconfig to use instead of the pod's ServiceAccount")
  .option(
    '--standalone',
    'no cluster: resources in SQLite (--data-dir), PeeringRequests and Secrets from --manifests',
  )
  .option('--manifests <dir>', 'standalone: folder of PeeringRequest and Secret YAML, applied every 5 s')
  .option('-d, --data-dir <dir>', 'standalone: folder of the embedded store (overrides the configuration)')
  .option('--watch-namespace <ns>', 'reconcile only this namespace (default: all, which needs a ClusterRole)')
  .option(
    '--inbound-namespace <ns>',
    'where the Peering API writes inbound requests (default: $POD_NAMESPACE or default)',
  )
  .option('-l, --listen <host:port>', 'Peering API listen address (overrides the configuration)', hostPort)
  .option('--health-listen <host:port>', '/healthz, /readyz and /metrics', hostPort, '127.0.0.1:8081')
  .option('--leader-elect', 'elect a leader through a Lease (run two replicas for a standby)')
  .option('--lease-name <name>', 'the Lease', 'peering-operator')
  .option('--lease-namespace <ns>', 'namespace of the Lease (default: $POD_NAMESPACE)')
  .option('--lease-duration <duration>', 'lease duration (default: 10s)', duration)
  .option(
    '--renew-deadline <duration>',
    'leader gives up after failing to renew this long (default: 7s)',
    duration,
  )
  .option('--retry-period <duration>', 'acquire/renew interval (default: 2s)', duration)
  .option('--identity <name>', 'this replica in the Lease (default: $POD_NAME)')
  .option(
    '--router <kind>',
    'agents (Router resources, one router-agent per BGP daemon), bird or frr (in-process), or none (sessions say NoRouter); recording is for tests',
  )
  .option(
    '--agent-timeout <duration>',
    'agents: a Router whose agent is silent this long is disconnected (default: 15s)',
    duration,
  )
  .option('--bird-socket <path>', 'BIRD 2 control socket')
  .option('--bird-include-dir <dir>', 'folder of session files BIRD includes')
  .option(
    '--bird-session-defaults <file>',
    'YAML of what every BIRD session gets: importFilter, exportFilter, localPort, peerPort, multihop, timers, passive, requireRoles (default: import none, export none)',
  )
  .option('--frr-vty-socket <dir>', "--router frr: bgpd's vty socket folder (default FRR's own)")
  .option('--frr-listen-port <port>', '--router frr: the port bgpd listens on (default 179)', positiveInteger)
  .option(
    '--session-defaults <file>',
    'YAML of what every session gets (BIRD or FRR; as --bird-session-defaults)',
  )
  .option('--workers <n>', 'PeeringSessions reconciled at once', positiveInteger)
  .option(
    '--empty-request-grace <duration>',
    'an inbound PeeringRequest left without sessions (de-peered, or all refused) is removed after this (default: 10m)',
    duration,
  )
  .option('--log-level <level>', 'debug, info, warn, error', 'info')
  .addHelpText(
    'after',
    `
Examples:
  peering-operator run --config /etc/peering-operator/config.yaml --leader-elect --watch-namespace peering \\
    --router bird --bird-socket /run/bird/bird.ctl --bird-include-dir /etc/bird/peering
  peering-operator run --config peering.yaml --kubeconfig ~/.kube/config --router none
  peering-operator run --config examples/peering-operator.yaml --standalone --manifests examples/gitops/peers/as64501 --router none`,
  )
  .action(async (options: Record<string, unknown> & { config: string }) => {
    const { runOperator } = await import('./peering-operator/run.js');
    const config = await loadConfig(options.config);
    const operator = await runOperator({
      ...(options as object),
      config,
      configPath: options.config,
      leaseDurationMs: options['leaseDuration'] as number,
      renewDeadlineMs: options['renewDeadline'] as number,
      retryPeriodMs: options['retryPeriod'] as number,
      agentTimeoutMs: options['agentTimeout'] as number | undefined,
      emptyRequestGraceMs: options['emptyRequestGrace'] as number | undefined,
    });
    stopOnSignal(() => operator.stop());
  });

program
  .command('router-agent')
  .description(
    'Run beside one BGP daemon: configure the sessions the operator assigned to a Router, report BGP state back',
  )
  .requiredOption('--router <name>', 'the Router resource this agent drives')
  .option(
    '-n, --namespace <ns>',
    'namespace of the Router and its sessions (default: $POD_NAMESPACE or default)',
  )
  .option('--kubeconfig <file>', "kubeconfig to use instead of the pod's ServiceAccount")
  .option('--identity <name>', 'this agent in the Router status (default: $POD_NAME or the host name)')
  .requiredOption('--driver <kind>', 'the BGP daemon: bird or frr')
  .option('--bird-socket <path>', 'BIRD 2 control socket')
  .option('--bird-include-dir <dir>', 'folder of session files BIRD includes')
  .option('--frr-vty-socket <dir>', "FRR: bgpd's vty socket folder (default FRR's own, /var/run/frr)")
  .option('--frr-listen-port <port>', 'FRR: the port bgpd listens on (bgpd -p; default 179)', positiveInteger)
  .option(
    '--session-defaults <file>',
    'YAML of what every session gets: importFilter, exportFilter, timers, multihop, ports (as for run)',
  )
  .option('--bird-session-defaults <file>', 'the same, under its older name')
  .option(
    '--heartbeat-interval <duration>',
    'how often the Router status is refreshed (default: 5s)',
    duration,
  )
  .option('--observe-interval <duration>', 'how often BGP state is read and reported (default: 2s)', duration)
  .option('--log-level <level>', 'debug, info, warn, error', 'info')
  .addHelpText(
    'after',
    `
Examples:
  peering-operator router-agent --router edge1 --namespace peering --driver bird \\
    --bird-socket /run/bird/bird.ctl --bird-include-dir /etc/bird/peering
  peering-operator router-agent --router edge2 --namespace peering --driver frr --session-defaults sessions.yaml`,
  )
  .action(async (options: Record<string, unknown> & { router: string }) => {
    const { runRouterAgent } = await import('./peering-operator/router-agent.js');
    const agent = await runRouterAgent({
      ...(options as object),
      router: options.router,
      heartbeatMs: options['heartbeatInterval'] as number | undefined,
      observeMs: options['observeInterval'] as number | undefined,
    });
    stopOnSignal(() => agent.stop());
  });

function duration(value: string): number {
  const parsed = DurationSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError('expected a duration such as 10s, 500ms or 1m');
  return parsed.data;
}

function hostPort(value: string): string {
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(value)) {
    throw new InvalidArgumentError('expected HOST:PORT, e.g. 127.0.0.1:8080');
  }
  return value;
}

program.parseAsync().catch((error: unknown) => {
  if (error instanceof PeeringError && error.code === 'INVALID_CONFIG') {
    console.error(`peering-operator: ${error.message}`);
    process.exit(EXIT.config);
  }
  console.error(`peering-operator: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(EXIT.failure);
});
