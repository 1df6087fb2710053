import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/config.js';
import { startApiRuntime } from '../runtime/api-runtime.js';

/**
 * The standalone demo: the Peering API of AS64500 on the embedded store with our documentation-range
 * PeeringDB fixture, and a curl line to try it as AS64501.
 */
export async function runDemo(options: { listen: string; examplesDir: string }): Promise<void> {
  const configPath = join(options.examplesDir, 'peering-operator.yaml');
  const config = await loadConfig(configPath);
  const dataDir = mkdtempSync(join(tmpdir(), 'peering-demo-'));
  const runtime = await startApiRuntime(config, {
    configDir: options.examplesDir,
    listen: options.listen,
    dataDir,
  });
  const token = config.auth.staticTokens[0]?.token ?? '';
  console.log(
    `Peering API of AS${config.asns.join(', AS')} listening on ${runtime.baseUrl} (store: ${dataDir})`,
  );
  console.log('Request a session as AS64501 at Example IX (pdb:ix:1):');
  console.log(
    `  curl -s -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/json' ` +
      `-d '{"sessions":[{"local_asn":64500,"local_ip":"192.0.2.1","peer_asn":64501,"peer_ip":"192.0.2.2","location":"pdb:ix:1"}]}' ` +
      `${runtime.baseUrl}/sessions`,
  );
  console.log(`  curl -s -H 'Authorization: Bearer ${token}' '${runtime.baseUrl}/sessions?asn=64501'`);
  console.log('Press Ctrl-C to stop.');
  const { stopOnSignal } = await import('../cli/signals.js');
  stopOnSignal(() => runtime.close());
}
