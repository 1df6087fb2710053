import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type ConfigInput } from '../../src/config/config.js';
import type { Authenticator } from '../../src/auth/identity.js';
import { startApiRuntime, type ApiRuntime } from '../../src/api/runtime.js';
import type { SessionStore } from '../../src/store/store.js';

export interface TestApi extends ApiRuntime {
  dataDir: string;
  /** Stops the server and removes its data, unless `keepData`. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export interface TestToken {
  token: string;
  subject: string;
  networks: { asn: number; perms: number }[];
}

/**
 * Starts a real Peering API server on 127.0.0.1, on a free port, with a fresh SQLite store (or `dataDir`,
 * to test restarts), configured from `config` with static tokens `tokens`.
 */
export async function startTestApi(options: {
  config: Partial<ConfigInput> & Pick<ConfigInput, 'asns'>;
  peeringDbDir: string;
  tokens?: TestToken[];
  dataDir?: string;
  authenticators?: Authenticator[];
  /** Another server's store: two servers in front of one store, as replicas are in front of Kubernetes. */
  store?: SessionStore;
}): Promise<TestApi> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'peering-test-'));
  const config = parseConfig({
    apiUrl: 'http://127.0.0.1/v0.1',
    listen: '127.0.0.1:0',
    ...options.config,
    peeringdb: { dataDir: options.peeringDbDir },
    store: { dataDir },
    auth: { ...(options.config.auth ?? {}), staticTokens: options.tokens ?? [] },
  });
  const runtime = await startApiRuntime(config, {
    dataDir,
    authenticators: options.authenticators,
    store: options.store,
  });
  return {
    ...runtime,
    dataDir,
    stop: async ({ keepData = false } = {}) => {
      await runtime.close();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
