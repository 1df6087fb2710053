import { randomBytes, randomUUID } from 'node:crypto';
import { call } from '../support/conformance.js';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { EXAMPLES_DIR } from '../support/sample.js';
import { sampleRequest, sampleTerms } from '../support/stored.js';
import type { SessionTerms } from '../../src/domain/session.js';

const B = { token: 'token-network-b-admin-001', subject: 'b', networks: [{ asn: 64501, perms: 15 }] };
const C = { token: 'token-network-c-admin-001', subject: 'c', networks: [{ asn: 64502, perms: 15 }] };

function terms(i: number, peerAsn: number): SessionTerms {
  return sampleTerms({ localIp: '192.0.2.1', peerAsn, peerIp: `10.${Math.floor(i / 250)}.${i % 250}.1` });
}

describe('pagination over 1,000 sessions', () => {
  let api: TestApi;
  const ids = new Set<string>();

  beforeAll(async () => {
    api = await startTestApi({
      config: { asns: [64500] },
      peeringDbDir: `${EXAMPLES_DIR}/peeringdb`,
      tokens: [B, C],
    });
    // Seeded through the store: PeeringDB holds no 1,000 real addresses for one pair of networks.
    for (let batch = 0; batch < 10; batch += 1) {
      const sessions = Array.from({ length: 100 }, (_, k) => ({
        sessionId: randomUUID(),
        terms: terms(batch * 100 + k, 64501),
        status: 'approved' as const,
      }));
      sessions.forEach((s) => ids.add(s.sessionId));
      await api.store.submit(sampleRequest(64501, { createdBy: 'seed' }), sessions);
    }
    // Another network's sessions interleave and must never appear.
    await api.store.submit(sampleRequest(64502, { createdBy: 'seed' }), [
      { sessionId: randomUUID(), terms: terms(5000, 64502), status: 'approved' },
    ]);
  });
  afterAll(async () => {
    await api.stop();
  });

  test('max_results=7 returns each session exactly once, in pages of 7', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const query = token === undefined ? '' : `&next_token=${encodeURIComponent(token)}`;
      const page = await call<{ sessions: { session_id: string }[]; next_token?: string }>(
        api.baseUrl,
        'GET',
        `/sessions?asn=64501&max_results=7${query}`,
        { token: B.token },
      );
      expect(page.status).toBe(200);
      pages += 1;
      if (page.body.next_token !== undefined) expect(page.body.sessions).toHaveLength(7);
      seen.push(...page.body.sessions.map((s) => s.session_id));
      token = page.body.next_token;
    } while (token !== undefined);
    expect(pages).toBe(Math.ceil(1000 / 7));
    expect(seen).toHaveLength(1000);
    expect(new Set(seen)).toEqual(ids);
  });

  test('a session created while paging appears once, at the end', async () => {
    const first = await call<{ sessions: { session_id: string }[]; next_token?: string }>(
      api.baseUrl,
      'GET',
      '/sessions?max_results=100',
      {
        token: B.token,
      },
    );
    const extra = randomUUID();
    await api.store.submit(sampleRequest(64501, { createdBy: 'seed' }), [
      { sessionId: extra, terms: terms(999_999, 64501), status: 'approved' },
    ]);
    const seen = first.body.sessions.map((s) => s.session_id);
    let token = first.body.next_token;
    while (token !== undefined) {
      const page = await call<{ sessions: { session_id: string }[]; next_token?: string }>(
        api.baseUrl,
        'GET',
        `/sessions?max_results=100&next_token=${encodeURIComponent(token)}`,
        { token: B.token },
      );
      seen.push(...page.body.sessions.map((s) => s.session_id));
      token = page.body.next_token;
    }
    expect(seen).toHaveLength(1001);
    expect(seen[seen.length - 1]).toBe(extra);
    await api.store.remove([extra], 'test');
  });

  test('a tampered token, a token from another query and one used by another caller are 400', async () => {
    const page = await call<{ next_token: string }>(api.baseUrl, 'GET', '/sessions?asn=64501&max_results=7', {
      token: B.token,
    });
    const token = page.body.next_token;
    const [payload, signature] = token.split('.') as [string, string];
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { q: string; c: string };
    const forgedPayload = Buffer.from(JSON.stringify({ ...decoded, c: '0' })).toString('base64url');
    const attempts = [
      [`/sessions?asn=64501&max_results=7&next_token=${forgedPayload}.${signature}`, B.token],
      [`/sessions?asn=64501&next_token=${payload}.${signature.slice(0, -2)}xx`, B.token],
      [`/sessions?max_results=7&next_token=${encodeURIComponent(token)}`, B.token], // no asn: another query
      [`/sessions?asn=64501&request_id=x&next_token=${encodeURIComponent(token)}`, B.token],
      [`/locations?next_token=${encodeURIComponent(token)}`, B.token],
      [`/sessions?next_token=${encodeURIComponent(token)}`, C.token],
    ] as const;
    for (const [path, who] of attempts) {
      const answer = await call<{ errors: { name: string; code: string }[] }>(api.baseUrl, 'GET', path, {
        token: who,
      });
      expect([path, answer.status]).toEqual([path, 400]);
      expect(answer.body.errors[0]).toMatchObject({ name: 'next_token', code: 'INVALID_NEXT_TOKEN' });
    }
  });

  test('max_results=0 or absent gives the default page of 100; the last page has no next_token', async () => {
    const zero = await call<{ sessions: unknown[]; next_token?: string }>(
      api.baseUrl,
      'GET',
      '/sessions?max_results=0',
      { token: B.token },
    );
    expect(zero.body.sessions).toHaveLength(100);
    const c = await call<{ sessions: unknown[]; next_token?: string }>(api.baseUrl, 'GET', '/sessions', {
      token: C.token,
    });
    expect(c.body.sessions).toHaveLength(1);
    expect(c.body).not.toHaveProperty('next_token');
  });
});

describe('page tokens across replicas', () => {
  test('replicas sharing store.pageTokenKeyEnv open each other’s tokens; replicas without it do not', async () => {
    process.env.PEERING_TEST_PAGE_KEY = randomBytes(32).toString('base64');
    const shared = { asns: [64500], store: { pageTokenKeyEnv: 'PEERING_TEST_PAGE_KEY' } };
    const first = await startTestApi({
      config: shared,
      peeringDbDir: `${EXAMPLES_DIR}/peeringdb`,
      tokens: [B],
    });
    const second = await startTestApi({
      config: shared,
      peeringDbDir: `${EXAMPLES_DIR}/peeringdb`,
      tokens: [B],
      dataDir: first.dataDir,
      store: first.store,
    });
    const loner = await startTestApi({
      config: { asns: [64500] },
      peeringDbDir: `${EXAMPLES_DIR}/peeringdb`,
      tokens: [B],
    });
    try {
      for (const api of [first, loner]) {
        await api.store.submit(
          sampleRequest(64501, { createdBy: 'seed' }),
          [0, 1, 2].map((i) => ({
            sessionId: randomUUID(),
            terms: terms(i, 64501),
            status: 'approved' as const,
          })),
        );
      }
      const page = await call<{ next_token: string }>(first.baseUrl, 'GET', '/sessions?max_results=2', {
        token: B.token,
      });
      const next = `/sessions?max_results=2&next_token=${encodeURIComponent(page.body.next_token)}`;
      const onSecond = await call<{ sessions: unknown[] }>(second.baseUrl, 'GET', next, { token: B.token });
      expect(onSecond.status).toBe(200);
      expect(onSecond.body.sessions).toHaveLength(1);
      expect((await call(loner.baseUrl, 'GET', next, { token: B.token })).status).toBe(400);
    } finally {
      await second.stop({ keepData: true });
      await first.stop();
      await loner.stop();
      delete process.env.PEERING_TEST_PAGE_KEY;
    }
  });
});
