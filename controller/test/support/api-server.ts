import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type ConfigInput } from '../../src/config/config.js';
import type { Authenticator } from '../../src/auth/identity.js';
import { startApiRuntime, type ApiRuntime } from '../../src/api/runtime.js';
import type { SessionStore } from '../../src/store/store.js';
import { call } from './conformance.js';
import { EXAMPLES_DIR } from './sample.js';

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

/** The public URL (JWT audience) of the example network's API in the auth tests. */
export const EXAMPLE_API_URL = 'http://127.0.0.1/v0.1';

/**
 * A session AS64501 may ask AS64500 for at exchange 1 of `examples/peeringdb`, in the draft's REQUEST reading
 * (`local_*` = AS64500, the server).
 */
export const EXAMPLE_SESSION = {
  local_asn: 64500,
  local_ip: '192.0.2.1',
  peer_asn: 64501,
  peer_ip: '192.0.2.2',
  location: { id: 'pdb:ix:1', type: 'public' },
} as const;

/**
 * AS64500's API on `examples/peeringdb`, its callers checked by `authenticators` (the verifier a test is about),
 * and what the test asks it: the status of `GET /sessions?asn=64501` with a token.
 */
export async function startExampleApi(
  authenticators: Authenticator[],
): Promise<{ api: TestApi; status: (token: string) => Promise<number> }> {
  const api = await startTestApi({
    config: { asns: [64500], apiUrl: EXAMPLE_API_URL },
    peeringDbDir: join(EXAMPLES_DIR, 'peeringdb'),
    authenticators,
  });
  const status = async (token: string) =>
    (await call(api.baseUrl, 'GET', '/sessions?asn=64501', { token, conform: false })).status;
  return { api, status };
}
