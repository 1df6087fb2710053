import { provenRequests } from '../../src/demo/demo.js';
import { freePort } from '../../src/demo/two-networks.js';
import { DpopKey } from '../../src/auth/dpop-key.js';
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
  type NetworkOptions,
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

/** AS64500's OAuth client at the test issuer, and its secret (in A's Secret `oauth-client`, key `secret`). */
const CLIENT = { client_id: 'operator-as64500', client_secret: 'operator-secret-as64500-0000' };

interface OAuthNetworks {
  a: ReturnType<typeof temporaryEmbeddedBacking>;
  b: ReturnType<typeof temporaryEmbeddedBacking>;
  issuer: TestIssuer;
  netA: Network;
  netB: Network;
  stop(): Promise<void>;
}

/**
 * AS64501 trusting the test issuer's JWTs (with `b` on top of its options), AS64500 holding an OAuth client there
 * and `secret` (its data) in its Secret `oauth-client`, both on embedded stores.
 */
async function startOAuthNetworks(
  routerA: RecordingRouterDriver,
  secret: Record<string, string>,
  b: Partial<NetworkOptions> = {},
): Promise<OAuthNetworks> {
  const stores = { a: temporaryEmbeddedBacking(), b: temporaryEmbeddedBacking() };
  const issuer = await startTestIssuer();
  issuer.addClient({ ...CLIENT, account: 'admin64500' });
  const netB = await startNetwork({
    asn: B,
    callers: [],
    issuers: [issuer.issuers.jwt],
    backing: stores.b.backing,
    router: new RecordingRouterDriver(),
    namespace: 'default',
    ...b,
  });
  const netA = await startNetwork({
    asn: A,
    callers: [],
    backing: stores.a.backing,
    router: routerA,
    namespace: 'default',
  });
  stores.a.backing.secrets.replace(
    new Map([['default/oauth-client', { secret: CLIENT.client_secret, ...secret }]]),
  );
  return {
    ...stores,
    issuer,
    netA,
    netB,
    stop: async () => {
      await netA.stop();
      await netB.stop();
      await issuer.stop();
      stores.a.cleanup();
      stores.b.cleanup();
    },
  };
}

describe('an outbound request authenticated with OAuth 2.0 client credentials', () => {
  const routerA = new RecordingRouterDriver();
  let networks: OAuthNetworks;
  let a: OAuthNetworks['a'];
  let b: OAuthNetworks['b'];
  let issuer: TestIssuer;
  let netB: Network;

  beforeAll(async () => {
    networks = await startOAuthNetworks(routerA, {});
    ({ a, b, issuer, netB } = networks);
  });
  afterAll(async () => networks?.stop());

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

describe('an outbound request with a DPoP key from a Secret, to a peer that requires dpop+signature of it', () => {
  let networks: OAuthNetworks;
  let a: OAuthNetworks['a'];
  let b: OAuthNetworks['b'];
  let issuer: TestIssuer;
  let netB: Network;

  const request = (name: string, dpopKeySecretRef?: { name: string; key: string }) =>
    outboundRequest({
      name,
      namespace: 'default',
      localAsn: A,
      peerAsn: B,
      peerApiUrl: netB.apiUrl,
      sessions: [{ location: 'pdb:ix:1', localIp: '192.0.2.1', peerIp: '192.0.2.2' }],
      credentials: {
        oauth2ClientCredentials: {
          issuer: issuer.issuer,
          clientId: 'operator-as64500',
          clientSecretRef: { name: 'oauth-client', key: 'secret' },
          resource: netB.apiUrl,
          ...(dpopKeySecretRef ? { dpopKeySecretRef } : {}),
        },
      },
    });
  const proven = async () => {
    const counts = await provenRequests(netB.apiUrl);
    if (counts === undefined) throw new Error(`no metrics from ${netB.apiUrl}`);
    return counts;
  };

  beforeAll(async () => {
    networks = await startOAuthNetworks(
      new RecordingRouterDriver(),
      { 'dpop.jwk': await DpopKey.newJwkText(), broken: '{"kty":"RSA"}' },
      {
        authCallers: [{ asn: A, policy: 'dpop+signature' }],
        // Proofs and signatures name the peer's public URL: here, where it listens.
        listen: `127.0.0.1:${await freePort(['127.0.0.1'])}`,
      },
    );
    ({ a, b, issuer, netB } = networks);
  });
  afterAll(async () => networks?.stop());

  it('without a key, the peer refuses the plain JWT, and the request says why; nothing is recorded there', async () => {
    await a.backing.requests.create(request('bearer-only'));
    const status = (await eventually(async () => {
      const r = await a.backing.requests.get('default', 'bearer-only');
      const condition = r?.status?.conditions?.find((c) => c.type === 'Synced');
      return condition?.status === 'False' && condition;
    })) as { reason: string; message: string };
    expect(status.message).toMatch(/DPoP/);
    expect((await b.backing.sessions.list()).items).toEqual([]);
    expect((await proven())['dpop+signature']).toBeUndefined();
  });

  it('a key that is not an ES256 private JWK fails the request naming the field, and nothing is sent', async () => {
    const before = await proven();
    await a.backing.requests.create(request('broken-key', { name: 'oauth-client', key: 'broken' }));
    const condition = (await eventually(async () => {
      const r = await a.backing.requests.get('default', 'broken-key');
      const c = r?.status?.conditions?.find((x) => x.type === 'Synced');
      return c?.status === 'False' && c;
    })) as { reason: string; message: string };
    expect(condition.message).toContain(
      'dpopKeySecretRef: Secret default/oauth-client key broken is not an ES256 private JWK',
    );
    expect(condition.message).not.toContain('RSA');
    expect(await proven()).toEqual(before);
    expect((await b.backing.sessions.list()).items).toEqual([]);
  });

  it('with the key, its tokens are bound to it and every request is proven and signed: accepted', async () => {
    await a.backing.requests.create(request('signed', { name: 'oauth-client', key: 'dpop.jwk' }));
    const status = await eventually(
      async () => {
        const r = await a.backing.requests.get('default', 'signed');
        return r?.status?.sessionCounts?.accepted === 1 && r.status;
      },
      20_000,
      'accepted with DPoP and signatures',
    );
    expect(status.rejected).toEqual([]);
    expect((await b.backing.sessions.list()).items).toHaveLength(1);
    const counts = await proven();
    expect(counts['dpop+signature']).toBeGreaterThanOrEqual(1);
    expect(counts.bearer ?? 0).toBe(0);
  });
});
