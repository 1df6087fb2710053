import type { PeeringSession } from '../../src/operator/resources/peering-session.js';
import { RecordingRouterDriver } from '../../src/router/recording.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';
import { BgpFabric } from './support/bgp-fabric.js';
import { eventually } from './support/cluster.js';
import {
  startNetwork,
  startNetworkPair,
  temporaryEmbeddedBacking,
  type Network,
  type NetworkPair,
} from './support/network.js';
import { outboundRequest } from './fixtures/manifests.js';

const A = 64500;
const B = 64501;

describe('two networks on the embedded store (standalone mode)', () => {
  const fabric = new BgpFabric();
  let pair: NetworkPair;
  let a: NetworkPair['a'];
  let b: NetworkPair['b'];
  const requestToB: NetworkPair['requestToB'] = (...args) => pair.requestToB(...args);

  beforeAll(async () => {
    pair = await startNetworkPair({ a: fabric.driverFor(A), b: fabric.driverFor(B) });
    ({ a, b } = pair);
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('peers A with B: matching sessions on both sides, established, statuses agreeing', async () => {
    await a.backing.requests.create(requestToB('as64501'));
    const established = async (backing: typeof a.backing) => {
      const { items } = await backing.sessions.list();
      return items.length === 1 && items[0]?.status?.state === 'established' && items[0];
    };
    const [sessionA, sessionB] = [
      (await eventually(() => established(a.backing), 20_000, 'A established')) as PeeringSession,
      (await eventually(() => established(b.backing), 20_000, 'B established')) as PeeringSession,
    ];
    expect(sessionA.spec).toMatchObject({
      direction: 'Outbound',
      localIp: '192.0.2.1',
      peerIp: '192.0.2.2',
      peerAsn: B,
    });
    expect(sessionB.spec).toMatchObject({
      direction: 'Inbound',
      localIp: '192.0.2.2',
      peerIp: '192.0.2.1',
      peerAsn: A,
    });
    expect(sessionA.spec.sessionId).toBe(sessionB.spec.sessionId);
    const readyA = await eventually(async () => {
      const s = await a.backing.sessions.get('default', sessionA.metadata.name);
      return s?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True') && s;
    });
    expect(readyA.status?.bgp).toMatchObject({ state: 'established', prefixesReceived: 10, prefixesSent: 5 });
    const requestStatus = await eventually(async () => {
      const r = await a.backing.requests.get('default', 'as64501');
      return r?.status?.phase === 'Established' && r.status;
    });
    expect(requestStatus.sessionCounts).toEqual({ accepted: 1, pending: 0, rejected: 0, established: 1 });
    // Our own API went along as the return_url, where B may send a counter-request (the draft's flow).
    const inbound = (await b.backing.requests.list()).items.find((r) => r.spec.direction === 'Inbound');
    expect(inbound?.spec.inbound?.returnUrl).toBe('http://127.0.0.1/v0.1'); // netA's configured apiUrl
  });

  it('a suspended request sends nothing until spec.suspend is false', async () => {
    const request = requestToB('as64501-v6', [
      { location: 'pdb:ix:1', localIp: '2001:db8:1::1', peerIp: '2001:db8:1::2' },
    ]);
    await a.backing.requests.create({ ...request, spec: { ...request.spec, suspend: true } });
    const held = await eventually(async () => {
      const r = await a.backing.requests.get('default', 'as64501-v6');
      return r?.status?.conditions?.find((c) => c.type === 'Synced' && c.reason === 'Suspended') && r;
    });
    expect((await b.backing.sessions.list()).items).toHaveLength(1);
    await a.backing.requests.update({ ...held, spec: { ...held.spec, suspend: false } });
    await eventually(async () => (await b.backing.sessions.list()).items.length === 2, 20_000, 'B asked');
  });
});

describe('an outbound request authenticated with OAuth 2.0 client credentials', () => {
  const a = temporaryEmbeddedBacking();
  const b = temporaryEmbeddedBacking();
  let issuer: TestIssuer;
  let netA: Network;
  let netB: Network;
  const routerA = new RecordingRouterDriver();

  beforeAll(async () => {
    issuer = await startTestIssuer();
    issuer.addClient({
      client_id: 'operator-as64500',
      client_secret: 'operator-secret-as64500-0000',
      account: 'admin64500',
    });
    netB = await startNetwork({
      asn: B,
      callers: [],
      issuers: [issuer.issuers.jwt],
      backing: b.backing,
      router: new RecordingRouterDriver(),
      namespace: 'default',
    });
    netA = await startNetwork({
      asn: A,
      callers: [],
      backing: a.backing,
      router: routerA,
      namespace: 'default',
    });
    a.backing.secrets.replace(
      new Map([['default/oauth-client', { secret: 'operator-secret-as64500-0000' }]]),
    );
  });
  afterAll(async () => {
    await netA?.stop();
    await netB?.stop();
    await issuer?.stop();
    a.cleanup();
    b.cleanup();
  });

  it('gets a JWT for the peer’s API from the issuer the peer trusts, and is accepted', async () => {
    await a.backing.requests.create(
      outboundRequest({
        name: 'as64501-oauth',
        namespace: 'default',
        localAsn: A,
        peerAsn: B,
        peerApiUrl: netB.apiUrl,
        credentials: {
          oauth2ClientCredentials: {
            issuer: issuer.issuer,
            clientId: 'operator-as64500',
            clientSecretRef: { name: 'oauth-client', key: 'secret' },
            // The peer's JWT audience is its configured apiUrl.
            resource: 'http://127.0.0.1/v0.1',
          },
        },
      }),
    );
    const status = await eventually(
      async () => {
        const r = await a.backing.requests.get('default', 'as64501-oauth');
        return r?.status?.sessionCounts?.accepted === 1 && r.status;
      },
      20_000,
      'accepted with a JWT',
    );
    expect(status.rejected).toEqual([]);
    const { items } = await b.backing.sessions.list();
    expect(items.map((s) => s.metadata.annotations?.['peering.autopeer.dev/requested-by'])).toEqual([
      expect.stringContaining(issuer.issuer),
    ]);
    // A's router gets AS64501's recommended IPv4 max-prefix from PeeringDB (info_prefixes4: 20 in the fixture).
    await eventually(
      async () => {
        const upserts = routerA.calls.flatMap((call) =>
          call.method === 'apply' ? (call.batch.upsert ?? []) : [],
        );
        expect(upserts.map((session) => [session.peerAsn, session.maxPrefixes])).toContainEqual([B, 20]);
        return true;
      },
      20_000,
      'configured with the max-prefix limit',
    );
  });
});
