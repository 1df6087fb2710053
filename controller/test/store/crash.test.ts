import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteSessionStore } from '../../src/store/sqlite.js';
import { writeLargeIxFixture } from '../support/fixture.js';
import { REPO_ROOT } from '../support/sample.js';
import { sampleRequest, sampleTerms } from '../support/stored.js';

const BIN = join(REPO_ROOT, 'dist', 'controller', 'src', 'cli', 'peering-operator.js');
const TOKEN = 'crash-test-token-as64501-0001';

describe('the embedded store is atomic', () => {
  test('a failure in the middle of a request leaves nothing of it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'peering-store-'));
    const store = new SqliteSessionStore(dir);
    try {
      const taken = randomUUID();
      await store.submit(sampleRequest(64501, { createdBy: 't' }), [
        { sessionId: taken, terms: sampleTerms({ peerIp: '10.99.100.1' }), status: 'approved' },
      ]);
      // The third session reuses an existing session id: the database refuses it mid-transaction. (Matched by
      // message: the native module's error class may come from another test file's realm in the same worker.)
      const failing = [
        {
          sessionId: randomUUID(),
          terms: sampleTerms({ peerIp: '10.99.100.2' }),
          status: 'approved' as const,
        },
        {
          sessionId: randomUUID(),
          terms: sampleTerms({ peerIp: '10.99.100.3' }),
          status: 'approved' as const,
        },
        { sessionId: taken, terms: sampleTerms({ peerIp: '10.99.100.4' }), status: 'approved' as const },
      ];
      const requestId = randomUUID();
      await expect(
        store.submit(sampleRequest(64501, { requestId, createdBy: 't' }), failing),
      ).rejects.toMatchObject({ message: expect.stringMatching(/UNIQUE/) });
      expect((await store.all()).map((s) => s.sessionId)).toEqual([taken]);
      expect(await store.findRequest([64501], requestId)).toBeUndefined();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('kill -9 during 100-session requests: after restart each request is whole or absent', async () => {
    const work = mkdtempSync(join(tmpdir(), 'peering-crash-'));
    const { theirs } = writeLargeIxFixture(join(work, 'pdb'), 1000);
    writeFileSync(
      join(work, 'config.yaml'),
      [
        'asns: [64500]',
        'apiUrl: http://127.0.0.1/v0.1',
        'listen: 127.0.0.1:0',
        `peeringdb: { dataDir: ${join(work, 'pdb')} }`,
        `store: { dataDir: ${join(work, 'data')} }`,
        'limits: { requestsPerMinute: 0 }',
        `auth: { staticTokens: [{ token: ${TOKEN}, subject: t, networks: [{ asn: 64501, perms: 15 }] }] }`,
      ].join('\n'),
    );
    const start = async (): Promise<{ child: ChildProcess; url: string }> => {
      const child = spawn(
        process.execPath,
        [BIN, 'serve', '--config', join(work, 'config.yaml'), '--log-level', 'fatal'],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout?.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      return { child, url };
    };
    const sent: string[][] = [];
    try {
      for (let round = 0; round < 8; round += 1) {
        const { child, url } = await start();
        const exited = new Promise((resolve) => child.on('exit', resolve));
        // Fire several large requests, then kill the server at a moment that varies per round.
        const posts = Array.from({ length: 4 }, (_, k) => {
          const offset = (round * 4 + k) * 25;
          const peerIps = Array.from({ length: 25 }, (_, i) => theirs[offset + i] as string);
          sent.push(peerIps);
          const sessions = peerIps.flatMap((peerIp) =>
            ['10.99.0.1', '10.99.0.2', '10.99.0.3', '10.99.0.4'].map((localIp) => ({
              local_asn: 64500,
              local_ip: localIp,
              peer_asn: 64501,
              peer_ip: peerIp,
              location: 'pdb:ix:1',
            })),
          );
          return fetch(`${url}/sessions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ sessions }),
          }).catch(() => undefined);
        });
        await new Promise((resolve) => setTimeout(resolve, 5 + round * 20));
        child.kill('SIGKILL');
        await exited;
        await Promise.all(posts);
      }
      const store = new SqliteSessionStore(join(work, 'data'));
      try {
        const all = await store.all();
        const byPeer = new Map<string, number>();
        for (const s of all) byPeer.set(s.terms.peerIp, (byPeer.get(s.terms.peerIp) ?? 0) + 1);
        let whole = 0;
        for (const peerIps of sent) {
          const counts = peerIps.map((ip) => byPeer.get(ip) ?? 0);
          // 100 sessions per request: either all 4 local addresses for all 25 peer addresses, or none.
          expect(new Set(counts).size).toBe(1);
          expect([0, 4]).toContain(counts[0]);
          if (counts[0] === 4) whole += 1;
        }
        // Each surviving request also has its request row (the answer to a retry).
        const requests = new Set(all.map((s) => s.requestId));
        for (const id of requests) expect(await store.findRequest([64501], id)).toBeDefined();
        expect(all.length).toBe(whole * 100);
        expect(whole).toBeGreaterThan(0); // the test must also see requests that were acknowledged
        console.log(`crash test: ${whole} of ${sent.length} requests survived whole, the rest left nothing`);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
