import { randomUUID } from 'node:crypto';
import { PeeringApiClient } from '../../src/client/client.js';
import type { SessionTermsInput } from '../../src/domain/session.js';
import { PeeringApiError } from '../../src/client/errors.js';
import { PeeringError } from '../../src/domain/errors.js';
import type { TokenSource } from '../../src/auth/token-source.js';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { describeWithSample } from '../support/sample.js';

// Our network is Cloudflare (AS13335); the remote Peering API is Google's (AS15169), a REAL server of ours on
// loopback over the 2022 PeeringDB sample. Every call of the client goes through it.
const CF = {
  token: 'token-cloudflare-admin-0001',
  subject: 'alice@cloudflare',
  networks: [{ asn: 13335, perms: 15 }],
};

const AMS_V4: SessionTermsInput = {
  localAsn: 13335,
  localIp: '80.249.211.140',
  peerAsn: 15169,
  peerIp: '80.249.208.247',
  location: 'pdb:ix:26',
};
const AMS_V6: SessionTermsInput = {
  localAsn: 13335,
  localIp: '2001:7f8:1::a501:3335:1',
  peerAsn: 15169,
  peerIp: '2001:7f8:1::a501:5169:1',
  location: { id: 'pdb:ix:26', type: 'public' },
};

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describeWithSample('PeeringApiClient against our own server (AS13335 asks AS15169)', (sample) => {
  let api: TestApi;
  let client: PeeringApiClient;

  beforeAll(async () => {
    api = await startTestApi({ config: { asns: [15169] }, peeringDbDir: sample, tokens: [CF] });
    client = new PeeringApiClient({ apiUrl: api.baseUrl, auth: CF.token, localAsns: [13335] });
  });
  afterAll(async () => {
    await client?.close();
    await api?.stop();
  });

  test('openapi returns the server document', async () => {
    const document = await client.openapi();
    expect(document.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(document.paths as object)).toEqual(
      expect.arrayContaining(['/sessions', '/sessions/{session_id}', '/locations']),
    );
  });

  test('listLocations follows every page and yields what the receiver lists', async () => {
    const expected = await api.receiver.listLocations(15169, 'public');
    expect(expected.length).toBeGreaterThan(100);
    const listed = await collect(
      client.listLocations({ asn: 15169, locationType: 'public', maxResults: 40 }),
    );
    expect(listed.map((l) => l.id)).toEqual(expected.map((l) => l.id));
    const ams = listed.find((l) => l.id === 'pdb:ix:26');
    expect(ams).toMatchObject({ type: 'public', asn: 15169, name: 'AMS-IX' });
    expect(ams?.localIps).toEqual(expect.arrayContaining(['80.249.208.247', '2001:7f8:1::a501:5169:1']));
  });

  test('requestSessions sends our reading swapped and answers in our reading; a repeat is the same request', async () => {
    const requestId = `test-${randomUUID()}`;
    const answer = await client.requestSessions([AMS_V4, AMS_V6], { requestId });
    expect(answer.errors).toEqual([]);
    expect(answer.clientRequestId).toBe(requestId);
    expect(answer.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.sessions).toHaveLength(2);
    expect(answer.sessions[0]).toMatchObject({
      localAsn: 13335,
      localIp: '80.249.211.140',
      peerAsn: 15169,
      peerIp: '80.249.208.247',
      location: { id: 'pdb:ix:26', type: 'public' },
      status: 'approved',
      flipped: false,
    });
    const repeat = await client.requestSessions([AMS_V4, AMS_V6], { requestId });
    expect(repeat.requestId).toBe(answer.requestId);
    expect(repeat.sessions.map((s) => s.sessionId)).toEqual(answer.sessions.map((s) => s.sessionId));
    // A new request id for the same natural keys still yields the same sessions (docs/api.md §6).
    const again = await client.requestSessions([AMS_V4]);
    expect(again.sessions[0]?.sessionId).toBe(answer.sessions[0]?.sessionId);
  });

  test('per-session rejections come back with the field named in both readings', async () => {
    const answer = await client.requestSessions([
      { ...AMS_V4, localIp: '80.249.211.141', peerIp: '80.249.209.100' },
      { ...AMS_V4, location: 'pdb:ix:31', localIp: '80.81.194.180', peerIp: '80.81.192.108' },
    ]);
    expect(answer.sessions).toHaveLength(1);
    expect(answer.sessions[0]).toMatchObject({ peerIp: '80.81.192.108', status: 'approved' });
    const rejection = answer.errors.find((e) => e.code === 'PEER_IP_NOT_REGISTERED');
    // On the wire our address is `peer_ip`; in our reading it is our local address.
    expect(rejection).toMatchObject({ name: 'sessions[0].peer_ip', field: 'sessions[0].local_ip' });
  });

  test('a request the server refuses entirely is a typed error with the server codes', async () => {
    const error = await client
      .requestSessions([{ ...AMS_V4, localIp: '80.249.211.141' }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PeeringApiError);
    expect(error).toBeInstanceOf(PeeringError);
    const typed = error as PeeringApiError;
    expect(typed.httpStatus).toBe(400);
    expect(typed.remoteErrors[0]).toMatchObject({
      name: 'sessions[0].peer_ip',
      field: 'sessions[0].local_ip',
      code: 'PEER_IP_NOT_REGISTERED',
    });
    expect(typed.code).toBe('PEER_IP_NOT_REGISTERED');
    expect(typed.traceId).toBeDefined();
  });

  test('an invalid proposal is refused before anything is sent, naming the field in our words', async () => {
    const error = await client
      .requestSessions([{ ...AMS_V4, localIp: '80.249.211.999' }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PeeringError);
    expect((error as PeeringError).field).toBe('sessions[0].localIp');
  });

  test('listSessions pages, getSession, findSession and both deletes', async () => {
    const created = await client.requestSessions([
      { ...AMS_V4, location: 'pdb:ix:1', localIp: '206.126.237.30', peerIp: '206.126.236.21' },
    ]);
    expect(created.errors).toEqual([]);
    const pages = await collect(client.listSessionPages({ asn: 13335, maxResults: 1 }));
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.every((p) => p.sessions.length <= 1)).toBe(true);
    const all = await collect(client.listSessions({ asn: 13335 }));
    expect(pages.flatMap((p) => p.sessions)).toEqual(all);
    expect(all.map((s) => s.sessionId)).toContain(created.sessions[0]?.sessionId);

    const byRequest = await collect(client.listSessions({ requestId: created.requestId }));
    expect(byRequest.map((s) => s.sessionId)).toEqual([created.sessions[0]?.sessionId]);

    const one = await client.getSession(created.sessions[0]!.sessionId);
    expect(one).toEqual(created.sessions[0]);

    const found = await client.findSession({
      localAsn: 13335,
      peerAsn: 15169,
      location: 'pdb:ix:1',
      localIp: '206.126.237.30',
      peerIp: '206.126.236.21',
    });
    expect(found?.sessionId).toBe(one.sessionId);

    await client.deleteSession(one.sessionId);
    await expect(client.getSession(one.sessionId)).rejects.toMatchObject({
      code: 'SESSION_NOT_FOUND',
      httpStatus: 404,
    });
    // The first answer to a delete is a 404: the session was not there to delete.
    await expect(client.deleteSession(one.sessionId)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });

    const ams = all.filter((s) => s.location.id === 'pdb:ix:26');
    const missing = randomUUID();
    const batch = await client.deleteSessions([ams[0]!.sessionId, missing]);
    expect(batch.sessions.map((s) => s.sessionId)).toEqual([ams[0]!.sessionId]);
    expect(batch.errors).toEqual([
      expect.objectContaining({ name: 'sessions[1].session_id', code: 'SESSION_NOT_FOUND' }),
    ]);
  });

  test('401 with a static token is UNAUTHENTICATED; a TokenSource is invalidated once and asked again', async () => {
    const wrong = new PeeringApiClient({ apiUrl: api.baseUrl, auth: 'not-a-valid-token-0000' });
    await expect(wrong.getSession(randomUUID())).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      httpStatus: 401,
      attempts: 1,
    });
    await wrong.close();

    const handed: string[] = [];
    let invalidations = 0;
    const source: TokenSource = {
      token: async () => {
        const token = invalidations === 0 ? 'expired-token-000000000' : CF.token;
        handed.push(token);
        return token;
      },
      invalidate: () => {
        invalidations += 1;
      },
    };
    const refreshing = new PeeringApiClient({ apiUrl: api.baseUrl, auth: source });
    const locations = await collect(refreshing.listLocations({ asn: 15169, maxResults: 100 }));
    expect(locations.length).toBeGreaterThan(100);
    expect(invalidations).toBe(1);
    // One rejected attempt with the expired token, then the fresh token for every page.
    expect(handed[0]).toBe('expired-token-000000000');
    expect(handed.slice(1)).toEqual(Array(Math.ceil(locations.length / 100)).fill(CF.token));

    const alwaysWrong: TokenSource = {
      token: async () => 'still-wrong-000000000',
      invalidate: () => (invalidations += 1),
    };
    const stubborn = new PeeringApiClient({ apiUrl: api.baseUrl, auth: alwaysWrong });
    await expect(stubborn.getSession(randomUUID())).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      attempts: 2,
    });
    expect(invalidations).toBe(2);
    await refreshing.close();
    await stubborn.close();
  });

  test("an ASN the token does not hold is FORBIDDEN_ASN with the server's field", async () => {
    await expect(collect(client.listSessions({ asn: 64500 }))).rejects.toMatchObject({
      code: 'FORBIDDEN_ASN',
      httpStatus: 403,
      field: 'asn',
    });
  });
});
