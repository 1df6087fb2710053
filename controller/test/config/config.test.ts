import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../../src/config/config.js';
import { PeeringError } from '../../src/domain/errors.js';
import { EXAMPLES_DIR } from '../support/sample.js';

const minimal = { asns: [64500], apiUrl: 'https://peering.example.net/v0.1', peeringdb: { dataDir: 'pdb' } };

function failure(raw: unknown): PeeringError {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof PeeringError) return error;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('configuration', () => {
  test('the example configuration is valid and has the documented defaults', async () => {
    const config = await loadConfig(join(EXAMPLES_DIR, 'peering-operator.yaml'));
    expect(config.asns).toEqual([64500]);
    expect(config.basePath).toBe('/v0.1');
    expect(config.policy.timeWindow).toBe(7 * 86_400_000);
  });

  test('defaults fill everything that is optional', () => {
    const config = parseConfig(minimal);
    expect(config).toMatchObject({
      listen: '127.0.0.1:8080',
      basePath: '/v0.1',
      store: { dataDir: '.data' },
      policy: { approval: 'auto', maxSessionsPerRequest: 100, denyAsns: [] },
      limits: { bodyBytes: 1048576, pageSize: 100 },
      auth: { issuers: [], staticTokens: [] },
    });
  });

  test.each([
    [{ ...minimal, asns: [] }, 'asns'],
    [{ ...minimal, asns: ['64500'] }, 'asns.0'],
    [{ ...minimal, apiUrl: 'not a url' }, 'apiUrl'],
    [{ ...minimal, listen: 'localhost' }, 'listen'],
    [{ ...minimal, listen: '127.0.0.1:99999' }, 'listen'],
    [{ ...minimal, basePath: 'v0.1' }, 'basePath'],
    [{ ...minimal, peeringdb: {} }, 'peeringdb.dataDir'],
    [{ ...minimal, peeringdb: { dataDir: 'a', url: 'https://www.peeringdb.com/api' } }, 'peeringdb.dataDir'],
    [{ ...minimal, policy: { approval: 'sometimes' } }, 'policy.approval'],
    [{ ...minimal, policy: { timeWindow: '7 days' } }, 'policy.timeWindow'],
    [{ ...minimal, limits: { bodyBytes: 10 } }, 'limits.bodyBytes'],
    [
      { ...minimal, auth: { staticTokens: [{ subject: 'x', networks: [{ asn: 1, perms: 15 }] }] } },
      'auth.staticTokens.0.token',
    ],
    [{ ...minimal, auth: { issuers: [{ kind: 'saml' }] } }, 'auth.issuers.0.kind'],
    [{ ...minimal, unknownKey: true }, '(top level)'],
    [{ ...minimal, policy: { aproval: 'manual' } }, 'policy'],
    [
      {
        ...minimal,
        auth: {
          staticTokens: [
            { token: 'x'.repeat(20), subject: 's', networks: [{ asn: 1, perms: 1, admin: true }] },
          ],
        },
      },
      'auth.staticTokens.0.networks.0',
    ],
  ])('%j is refused, naming %s', (raw, field) => {
    const error = failure(raw);
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.message).toContain(`  ${field}: `);
  });

  test('a YAML file with a duplicate key or a syntax error is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'peering-config-'));
    writeFileSync(join(dir, 'dup.yaml'), 'asns: [1]\nasns: [2]\n');
    await expect(loadConfig(join(dir, 'dup.yaml'))).rejects.toThrow(/not valid YAML/);
    writeFileSync(join(dir, 'bad.yaml'), 'asns: [1\n');
    await expect(loadConfig(join(dir, 'bad.yaml'))).rejects.toThrow(/not valid YAML/);
    await expect(loadConfig(join(dir, 'missing.yaml'))).rejects.toThrow(/cannot read/);
  });
});
