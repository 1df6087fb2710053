import { PeeringApiClient } from '../../src/client/client.js';
import type { SessionTermsInput } from '../../src/domain/session.js';
import { PeeringApiError } from '../../src/client/errors.js';
import { ManualClock } from '../../src/time/clock.js';
import { QuirkyPeer, json } from './quirky-peer.js';

// We are AS64501; the quirky remote network is AS64500. Only the backoff waits use a fake clock; attempt
// timeouts are real, so "nothing hangs" is measured in real time.
const US = 64501;
const THEM = 64500;
const SESSION_ID = '0b0e5c56-1a7e-4a8e-9f57-6c1b5d2f3a10';

const proposal: SessionTermsInput = {
  localAsn: US,
  localIp: '192.0.2.2',
  peerAsn: THEM,
  peerIp: '192.0.2.1',
  location: 'pdb:ix:1',
};

/** A session in the draft's REQUEST reading: `local_*` is the server (them). */
function wireSession(overrides: Record<string, unknown> = {}) {
  return {
    session_id: SESSION_ID,
    local_asn: THEM,
    local_ip: '192.0.2.1',
    peer_asn: US,
    peer_ip: '192.0.2.2',
    local_insert_asn: true,
    peer_insert_asn: true,
    local_monitoring_session: false,
    peer_monitoring_session: false,
    peer_type: 'public',
    location: { id: 'pdb:ix:1', type: 'public' },
    status: 'approved',
    ...overrides,
  };
}

/** Backoff waits pass at once, and are recorded. */
class FakeClock extends ManualClock {
  readonly sleeps: number[] = [];

  constructor() {
    super(1_000_000);
  }

  override async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    await this.advance(ms);
  }
}

describe('PeeringApiClient against a quirky remote peer', () => {
  const peer = new QuirkyPeer();
  let clock: FakeClock;
  const clients: PeeringApiClient[] = [];
  const client = (options: Partial<ConstructorParameters<typeof PeeringApiClient>[0]> = {}) => {
    const made = new PeeringApiClient({
      apiUrl: peer.baseUrl,
      auth: 'a-static-token-for-the-fake',
      localAsns: [US],
      clock,
      random: () => 0.5,
      timeoutMs: 2_000,
      ...options,
    });
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    await peer.start();
  });
  beforeEach(() => {
    clock = new FakeClock();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await peer.stop();
  });

  describe('tolerance', () => {
    test('the flipped reading is recognised by our ASN and turned into ours', async () => {
      peer.answer((_req, res) =>
        json(
          res,
          200,
          wireSession({
            local_asn: US,
            local_ip: '192.0.2.2',
            peer_asn: THEM,
            peer_ip: '192.0.2.1',
            local_bgp_role: 4,
            peer_bgp_role: 4,
          }),
        ),
      );
      const session = await client().getSession(SESSION_ID);
      expect(session).toMatchObject({ localAsn: US, localIp: '192.0.2.2', peerAsn: THEM, flipped: true });

      peer.answer((_req, res) => json(res, 200, wireSession()));
      const straight = await client().getSession(SESSION_ID);
      expect(straight).toMatchObject({ localAsn: US, localIp: '192.0.2.2', peerAsn: THEM, flipped: false });
    });

    test('statuses in any case, unknown statuses, extra fields, bare locations, CIDR addresses and missing defaults', async () => {
      const { local_insert_asn: _a, peer_monitoring_session: _b, peer_type: _c, ...sparse } = wireSession();
      peer.answer((_req, res) =>
        json(res, 200, {
          sessions: [
            wireSession({ status: 'ESTABLISHED', vendor_extension: { anything: true } }),
            { ...sparse, status: 'Provisioning', location: 'pdb:ix:1', local_ip: '192.0.2.1/24' },
          ],
          next_token: null,
          generated_at: '2026-01-01T00:00:00Z',
        }),
      );
      const sessions = [];
      for await (const session of client().listSessions({ asn: US })) sessions.push(session);
      expect(sessions).toHaveLength(2);
      expect(sessions[0]?.status).toBe('established');
      expect(sessions[0]).not.toHaveProperty('vendor_extension');
      expect(sessions[1]).toMatchObject({
        status: 'Provisioning',
        location: { id: 'pdb:ix:1', type: 'public' },
        peerIp: '192.0.2.1',
        peerInsertAsn: true,
        localMonitoringSession: false,
        peerType: 'public',
      });
      expect(peer.seen[0]?.path).toBe('/v0.1/sessions?asn=64501');
    });

    test('`messages` instead of `errors`, with our codes and with codes of its own', async () => {
      peer.answer((_req, res) =>
        json(res, 400, {
          messages: [
            { name: 'sessions[0].local_ip', messages: ['not ours'], code: 'LOCAL_IP_NOT_OURS' },
            { name: 'sessions[0].peer_ip', messages: 'unknown address' },
          ],
        }),
      );
      const error = (await client()
        .requestSessions([proposal])
        .catch((e: unknown) => e)) as PeeringApiError;
      expect(error).toBeInstanceOf(PeeringApiError);
      expect(error.code).toBe('LOCAL_IP_NOT_OURS');
      expect(error.httpStatus).toBe(400);
      expect(error.field).toBe('sessions[0].peer_ip');
      expect(error.remoteErrors).toEqual([
        {
          name: 'sessions[0].local_ip',
          field: 'sessions[0].peer_ip',
          errors: ['not ours'],
          code: 'LOCAL_IP_NOT_OURS',
        },
        { name: 'sessions[0].peer_ip', field: 'sessions[0].local_ip', errors: ['unknown address'] },
      ]);

      peer.answer((_req, res) => json(res, 422, { messages: [{ message: 'call us', code: 'E_HUMAN' }] }));
      const own = (await client()
        .getSession(SESSION_ID)
        .catch((e: unknown) => e)) as PeeringApiError;
      expect(own.code).toBe('HUMAN_INTERVENTION_REQUIRED');
      expect(own.remoteErrors[0]).toMatchObject({ code: 'E_HUMAN', errors: ['call us'] });
    });

    test('per-session `messages` in a 200 answer', async () => {
      peer.answer((_req, res) =>
        json(res, 200, {
          request_id: 'srv-1',
          sessions: [wireSession()],
          messages: [{ name: 'sessions[1].local_ip', messages: ['no'], code: 'LOCAL_IP_NOT_OURS' }],
        }),
      );
      const answer = await client().requestSessions([proposal, { ...proposal, peerIp: '192.0.2.9' }]);
      expect(answer.requestId).toBe('srv-1');
      expect(answer.sessions).toHaveLength(1);
      expect(answer.errors).toEqual([
        {
          name: 'sessions[1].local_ip',
          field: 'sessions[1].peer_ip',
          errors: ['no'],
          code: 'LOCAL_IP_NOT_OURS',
        },
      ]);
    });

    test('a redirect is never followed: a checked return_url cannot hand a request on (issue 14)', async () => {
      const elsewhere = new QuirkyPeer();
      await elsewhere.start();
      let reached = 0;
      elsewhere.answer((_req, res) => {
        reached += 1;
        json(res, 200, { request_id: SESSION_ID, sessions: [wireSession()], errors: [] });
      });
      try {
        for (const status of [301, 302, 307, 308]) {
          peer.answer((_req, res) => {
            res.writeHead(status, { location: `${elsewhere.baseUrl}/sessions` }).end();
          });
          await expect(client().requestSessions([proposal])).rejects.toBeInstanceOf(PeeringApiError);
        }
        expect(reached).toBe(0);
      } finally {
        await elsewhere.stop();
      }
    });

    test('a session that cannot be read even tolerantly is REMOTE_PROTOCOL naming the field', async () => {
      peer.answer((_req, res) => json(res, 200, { sessions: [wireSession({ local_asn: 'sixty-four' })] }));
      await expect(client().requestSessions([proposal])).rejects.toMatchObject({
        code: 'REMOTE_PROTOCOL',
        field: 'sessions[0].local_asn',
      });
    });
  });

  describe('retries', () => {
    test('429 with Retry-After is honoured, then the answer is used', async () => {
      peer.answer((_req, res, index) =>
        index === 0
          ? json(
              res,
              429,
              { errors: [{ name: 'request', errors: ['slow down'], code: 'RATE_LIMITED' }] },
              {
                'retry-after': '3',
              },
            )
          : json(res, 200, wireSession()),
      );
      const session = await client().getSession(SESSION_ID);
      expect(session.sessionId).toBe(SESSION_ID);
      expect(peer.seen).toHaveLength(2);
      expect(clock.sleeps).toHaveLength(1);
      expect(clock.sleeps[0]).toBeGreaterThanOrEqual(3000);
    });

    test('a Retry-After beyond the limit ends the call with RATE_LIMITED and the delay', async () => {
      peer.answer((_req, res) => json(res, 429, { errors: [] }, { 'retry-after': '3600' }));
      await expect(client().getSession(SESSION_ID)).rejects.toMatchObject({
        code: 'RATE_LIMITED',
        retryAfterSeconds: 3600,
        attempts: 1,
      });
      expect(clock.sleeps).toEqual([]);
    });

    test('a 500 then success: GET retried after a jittered backoff', async () => {
      peer.answer((_req, res, index) =>
        index === 0 ? json(res, 500, { errors: [] }) : json(res, 200, wireSession()),
      );
      await client({ random: () => 0 }).getSession(SESSION_ID);
      expect(peer.seen).toHaveLength(2);
      // Equal jitter: at least half the base delay (250 ms) even when the random part is 0.
      expect(clock.sleeps).toEqual([125]);
    });

    test('backoff doubles per attempt and stops after the configured attempts', async () => {
      peer.answer((_req, res) => json(res, 503, { errors: [] }));
      const error = (await client({ random: () => 1, retry: { attempts: 4, baseDelayMs: 100 } })
        .getSession(SESSION_ID)
        .catch((e: unknown) => e)) as PeeringApiError;
      expect(error.code).toBe('REMOTE_UNAVAILABLE');
      expect(error.httpStatus).toBe(503);
      expect(error.attempts).toBe(4);
      expect(peer.seen).toHaveLength(4);
      expect(clock.sleeps).toEqual([100, 200, 400]);
    });

    test('a 500 then success: a POST is retried with the same request_id', async () => {
      peer.answer((_req, res, index) =>
        index === 0
          ? json(res, 500, { errors: [] })
          : json(res, 200, { request_id: 'srv-2', sessions: [wireSession()], errors: [] }),
      );
      const answer = await client({ newRequestId: () => 'generated-id-1' }).requestSessions([proposal]);
      expect(answer.clientRequestId).toBe('generated-id-1');
      const posts = peer.posts();
      expect(posts).toHaveLength(2);
      expect(posts.map((p) => p.requestId)).toEqual(['generated-id-1', 'generated-id-1']);
      expect(posts[0]?.body).toEqual(posts[1]?.body);
      // The wire reading: the remote is local, we are peer.
      expect(posts[0]?.body).toMatchObject({
        sessions: [{ local_asn: THEM, local_ip: '192.0.2.1', peer_asn: US, peer_ip: '192.0.2.2' }],
      });
    });

    test('each logical request gets its own request_id', async () => {
      let n = 0;
      peer.answer((_req, res) => json(res, 200, { request_id: `srv-${n++}`, sessions: [wireSession()] }));
      const c = client();
      await c.requestSessions([proposal]);
      await c.requestSessions([proposal]);
      const ids = peer.posts().map((p) => p.requestId);
      expect(ids).toHaveLength(2);
      expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
      expect(ids[0]).not.toBe(ids[1]);
    });

    test('a POST without a request_id is never sent twice', async () => {
      peer.answer((_req, res) => json(res, 500, { errors: [] }));
      await expect(client().requestSessions([proposal], { withoutRequestId: true })).rejects.toMatchObject({
        code: 'REMOTE_UNAVAILABLE',
        attempts: 1,
      });
      expect(peer.posts()).toHaveLength(1);
      expect(peer.posts()[0]?.requestId).toBeUndefined();

      // A connection that dies without an answer leaves the outcome unknown: still not sent again.
      peer.answer((_req, res) => res.socket?.destroy());
      await expect(client().requestSessions([proposal], { withoutRequestId: true })).rejects.toMatchObject({
        code: 'REMOTE_UNAVAILABLE',
      });
      expect(peer.posts()).toHaveLength(1);
    });

    test('a reset connection is retried for GET and for a POST with request_id', async () => {
      peer.answer((req, res, index) => {
        if (index === 0) return void res.socket?.destroy();
        if (req.method === 'POST') return json(res, 200, { request_id: 'srv', sessions: [wireSession()] });
        return json(res, 200, wireSession());
      });
      await client().getSession(SESSION_ID);
      expect(peer.seen).toHaveLength(2);
      peer.answer((req, res, index) => {
        if (index === 0) return void res.socket?.destroy();
        return json(res, 200, { request_id: 'srv', sessions: [wireSession()] });
      });
      await client().requestSessions([proposal], { requestId: 'mine-1' });
      expect(peer.posts().map((p) => p.requestId)).toEqual(['mine-1', 'mine-1']);
    });

    test('a DELETE whose first answer was lost and whose retry finds nothing counts as done', async () => {
      peer.answer((_req, res, index) =>
        index === 0
          ? void res.socket?.destroy()
          : json(res, 404, { errors: [{ name: 'session_id', errors: ['gone'], code: 'SESSION_NOT_FOUND' }] }),
      );
      await expect(client().deleteSession(SESSION_ID)).resolves.toBeUndefined();
      expect(peer.seen.map((r) => r.method)).toEqual(['DELETE', 'DELETE']);
    });
  });

  describe('nothing hangs', () => {
    test('a slow answer ends at the attempt timeout, retries included, in real time', async () => {
      peer.answer(() => undefined); // never answers
      const started = Date.now();
      const error = (await client({ timeoutMs: 300, retry: { attempts: 2 } })
        .getSession(SESSION_ID)
        .catch((e: unknown) => e)) as PeeringApiError;
      const elapsed = Date.now() - started;
      expect(error.code).toBe('TIMEOUT');
      expect(error.attempts).toBe(2);
      expect(elapsed).toBeLessThan(2_000);
      expect(peer.seen).toHaveLength(2);
    });

    test('a slow POST without request_id times out once and is not repeated', async () => {
      peer.answer(() => undefined);
      await expect(
        client({ timeoutMs: 300 }).requestSessions([proposal], { withoutRequestId: true }),
      ).rejects.toMatchObject({ code: 'TIMEOUT', attempts: 1 });
      expect(peer.posts()).toHaveLength(1);
    });

    test('the total budget bounds a call whose answers keep failing', async () => {
      peer.answer((_req, res) => json(res, 503, { errors: [] }));
      await expect(
        client({ totalTimeoutMs: 1_000, retry: { attempts: 100, baseDelayMs: 400 } }).getSession(SESSION_ID),
      ).rejects.toMatchObject({ code: 'REMOTE_UNAVAILABLE' });
      const waited = clock.sleeps.reduce((a, b) => a + b, 0);
      expect(waited).toBeLessThanOrEqual(1_000);
      expect(peer.seen.length).toBeLessThan(5);
    });

    test('a body cut off before its announced length is a network failure and retried', async () => {
      peer.answer((_req, res, index) => {
        if (index > 0) return json(res, 200, wireSession());
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        res.write('{"session_id": "0b0e5c56-1a7e');
        setTimeout(() => res.socket?.destroy(), 20);
      });
      const session = await client().getSession(SESSION_ID);
      expect(session.sessionId).toBe(SESSION_ID);
      expect(peer.seen).toHaveLength(2);
    });

    test('a complete answer holding truncated JSON is REMOTE_PROTOCOL, not retried', async () => {
      peer.answer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"sessions": [{"session_id": "0b0e5c56-1a7e');
      });
      await expect(client().getSession(SESSION_ID)).rejects.toMatchObject({ code: 'REMOTE_PROTOCOL' });
      expect(peer.seen).toHaveLength(1);
    });

    test('an endless fast stream is cut at the size cap', async () => {
      peer.answer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"sessions": [');
        const chunk = `${JSON.stringify(wireSession())},`.repeat(50);
        const timer = peer.every(1, () => {
          if (res.destroyed || res.writableEnded) clearInterval(timer);
          else res.write(chunk);
        });
      });
      const started = Date.now();
      await expect(
        client({ maxAnswerBytes: 256 * 1024, timeoutMs: 10_000 }).getSession(SESSION_ID),
      ).rejects.toMatchObject({ code: 'REMOTE_PROTOCOL', message: expect.stringContaining('larger than') });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(peer.seen).toHaveLength(1);
    });

    test('an endless slow trickle is cut by the attempt timeout (undici idle timeouts never fire)', async () => {
      peer.answer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const timer = peer.every(20, () => {
          if (res.destroyed || res.writableEnded) clearInterval(timer);
          else res.write(' ');
        });
      });
      const started = Date.now();
      await expect(
        client({ timeoutMs: 400, retry: { attempts: 1 } }).getSession(SESSION_ID),
      ).rejects.toMatchObject({ code: 'TIMEOUT' });
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    test('a listing whose server repeats a next_token ends with REMOTE_PROTOCOL', async () => {
      peer.answer((_req, res) => json(res, 200, { sessions: [wireSession()], next_token: 'again' }));
      const seen: string[] = [];
      await expect(
        (async () => {
          for await (const s of client().listSessions({ asn: US })) seen.push(s.sessionId);
        })(),
      ).rejects.toMatchObject({ code: 'REMOTE_PROTOCOL', field: 'next_token' });
      expect(peer.seen).toHaveLength(2);
    });

    test('a cancelled call stops at once', async () => {
      peer.answer(() => undefined);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const started = Date.now();
      await expect(
        client({ timeoutMs: 30_000 }).getSession(SESSION_ID, { signal: controller.signal }),
      ).rejects.toMatchObject({ code: 'TIMEOUT', message: 'the call was cancelled' });
      expect(Date.now() - started).toBeLessThan(2_000);
    });
  });
});
