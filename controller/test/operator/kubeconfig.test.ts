import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadKubeCredentials } from '../../src/operator/backing/kube/kubeconfig.js';

describe('loadKubeCredentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peering-kubeconfig-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, user: Record<string, unknown>, cluster: Record<string, unknown> = {}) => {
    const path = join(dir, name);
    writeFileSync(
      path,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'ctx',
        contexts: [
          { name: 'other', context: { cluster: 'wrong', user: 'wrong' } },
          { name: 'ctx', context: { cluster: 'c', user: 'u' } },
        ],
        clusters: [
          {
            name: 'c',
            cluster: {
              server: 'https://127.0.0.1:6443',
              'certificate-authority-data': Buffer.from('CA').toString('base64'),
              ...cluster,
            },
          },
        ],
        users: [{ name: 'u', user }],
      }),
    );
    return path;
  };

  it('reads the current context: server, CA, client certificate and key', async () => {
    const credentials = await loadKubeCredentials(
      write('certs.yaml', {
        'client-certificate-data': Buffer.from('CERT').toString('base64'),
        'client-key-data': Buffer.from('KEY').toString('base64'),
      }),
    );
    const options: RequestOptions = {};
    await credentials.applyToHTTPSOptions(options);
    expect(credentials.getCurrentCluster()).toEqual({ server: 'https://127.0.0.1:6443' });
    expect([
      String(options.ca),
      String(options.cert),
      String(options.key),
      options.rejectUnauthorized,
    ]).toEqual(['CA', 'CERT', 'KEY', true]);
    expect(options.headers).toBeUndefined();
  });

  it('sends a bearer token, re-reading a token file every time (rotated tokens)', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'first\n');
    const credentials = await loadKubeCredentials(write('token.yaml', { tokenFile }));
    const first: RequestOptions = {};
    await credentials.applyToHTTPSOptions(first);
    writeFileSync(tokenFile, 'second\n');
    const second: RequestOptions = {};
    await credentials.applyToHTTPSOptions(second);
    expect([first.headers, second.headers]).toEqual([
      { Authorization: 'Bearer first' },
      { Authorization: 'Bearer second' },
    ]);
  });

  it('leaves exec plugins to @kubernetes/client-node', async () => {
    const credentials = await loadKubeCredentials(
      write('exec.yaml', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'true' } }),
    );
    expect(credentials.constructor.name).toBe('KubeConfig');
  });

  it('says what is wrong with a kubeconfig without a usable context, and outside a cluster', async () => {
    const path = join(dir, 'empty.yaml');
    writeFileSync(path, 'apiVersion: v1\nkind: Config\n');
    await expect(loadKubeCredentials(path)).rejects.toThrow(
      `kubeconfig ${path}: no current context with a cluster`,
    );
    const saved = process.env['KUBERNETES_SERVICE_HOST'];
    delete process.env['KUBERNETES_SERVICE_HOST'];
    try {
      await expect(loadKubeCredentials(undefined)).rejects.toThrow(
        /not running in a cluster: give --kubeconfig/,
      );
    } finally {
      if (saved !== undefined) process.env['KUBERNETES_SERVICE_HOST'] = saved;
    }
  });
});
