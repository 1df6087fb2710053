#!/usr/bin/env node
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/config.js';
import { PeeringError } from '../domain/errors.js';
import { startApiRuntime } from '../runtime/api-runtime.js';
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
  .description('Run the standalone demo on the example configuration (no cluster needed)')
  .option('-l, --listen <host:port>', 'listen address', hostPort, '127.0.0.1:8080')
  .addHelpText('after', '\nExample:\n  peering-operator demo --listen 127.0.0.1:9090')
  .action(async (options: { listen: string }) => {
    const { runDemo } = await import('../demo/demo.js');
    await runDemo({
      listen: options.listen,
      examplesDir: resolve(dirname(fileURLToPath(import.meta.url)), '../../../../examples'),
    });
  });

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
