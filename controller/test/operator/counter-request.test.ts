import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Discovery, DiscoveryQuery } from '../../src/discovery/common-locations.js';
import { parseIpAddress, type IpAddress } from '../../src/domain/ip.js';
import { embeddedBacking, type EmbeddedBacking } from '../../src/operator/backing/backing.js';
import {
  CounterRequests,
  counterRequestName,
  type CounterRequestPolicy,
} from '../../src/operator/reconcilers/counter-request.js';
import { LABEL } from '../../src/operator/resources/api-group.js';
import {
  peeringRequest,
  type PeeringRequest,
  type PeeringRequestSpec,
} from '../../src/operator/resources/peering-request.js';
import { ManualClock } from '../../src/time/clock.js';

const V4 = { location: 'pdb:ix:1', localIp: '192.0.2.1', peerIp: '192.0.2.2' };
const V6 = { location: 'pdb:ix:1', localIp: '2001:db8::1', peerIp: '2001:db8::2' };
const ELSEWHERE = { location: 'pdb:ix:2', localIp: '198.51.100.1', peerIp: '198.51.100.2' };

/** PeeringDB as discovery reads it: AS64500 (us) and AS64501 share IX 1 in both families, and IX 2 in IPv4. */
const discover = async (query: DiscoveryQuery): Promise<Discovery> => ({
  sessions: [V4, V6, ELSEWHERE]
    .filter((s) => query.only === undefined || query.only.includes(s.location))
    .map((s) => ({
      ...s,
      location: { id: s.location, type: 'public' as const },
      family: s.localIp.includes(':') ? ('ipv6' as const) : ('ipv4' as const),
      localAsn: query.localAsn,
      peerAsn: query.peerAsn,
    })),
  skipped: [],
  locations: [],
});

/** An inbound request as our API server writes it: AS64501 asked for IPv4 at IX 1, with a return_url. */
function inbound(name: string, returnUrl = 'https://peering.as64501.example/v0.1'): PeeringRequest {
  const spec: PeeringRequestSpec = {
    direction: 'Inbound',
    localAsn: 64500,
    peerAsn: 64501,
    addressFamilies: ['ipv4', 'ipv6'],
    approved: true,
    sessions: [
      {
        ...V4,
        sessionId: '00000000-0000-4000-8000-000000000001',
        initialState: 'approved',
        localInsertAsn: true,
        peerInsertAsn: true,
        localMonitoringSession: false,
        peerMonitoringSession: false,
      },
    ],
    inbound: {
      requestId: '00000000-0000-4000-8000-00000000000a',
      returnUrl,
      requestedBy: 'noc@as64501',
      receivedAt: '2026-12-03T00:00:00Z',
      rejections: [],
    },
  };
  return peeringRequest('peering', name, spec);
}

describe('counter-requests (the draft return_url flow)', () => {
  let dir: string;
  let backing: EmbeddedBacking;
  let clock: ManualClock;
  const resolved = new Map<string, string[]>([['peering.as64501.example', ['192.0.2.80']]]);
  const resolve = async (host: string): Promise<IpAddress[]> => {
    const addresses = resolved.get(host);
    if (!addresses) throw new Error('NXDOMAIN');
    return addresses.map((a) => parseIpAddress(a) as IpAddress);
  };
  const counters = (policy: Partial<CounterRequestPolicy> = {}) =>
    new CounterRequests(
      {
        requests: backing.requests,
        sessions: backing.sessions,
        discover,
        events: backing.events,
        clock,
        resolve,
      },
      {
        mode: 'auto',
        perPeerPerHour: 4,
        credentials: { bearerTokenSecretRef: { name: 'as64501-token', key: 'token' } },
        rules: { allowLoopback: false, allowPrivate: false },
        ...policy,
      },
    );
  const all = async () => (await backing.requests.list({ namespace: 'peering' })).items;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'po-counter-unit-'));
    backing = embeddedBacking(dir);
    clock = new ManualClock();
  });
  afterEach(async () => {
    await backing.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks the peer at its return_url for the sessions it did not ask for, once', async () => {
    const request = inbound('in-as64501-1');
    const policy = { credentials: { bearerTokenSecretRef: { name: 'as64501-token', key: 'token' } } };
    const counter = counters(policy);
    const result = await counter.consider(request, request.spec);
    expect(result.condition).toMatchObject({ type: 'CounterRequested', status: 'True', reason: 'Created' });
    const [created] = await all();
    expect(created?.metadata.name).toBe(counterRequestName('in-as64501-1'));
    expect(created?.metadata.labels?.[LABEL.answers]).toBe('in-as64501-1');
    expect(created?.spec).toMatchObject({
      direction: 'Outbound',
      localAsn: 64500,
      peerAsn: 64501,
      peerApiUrl: 'https://peering.as64501.example/v0.1',
      credentials: policy.credentials,
      sessions: [V6],
    });
    expect(created?.spec.suspend).toBeUndefined();
    expect(backing.events.of('peering/in-as64501-1').map((e) => e.reason)).toEqual(['CounterRequested']);
    // Settled: the next pass leaves it as it is and creates nothing more.
    const settled = {
      ...request,
      status: { conditions: [{ ...result.condition!, lastTransitionTime: '' }] },
    };
    expect(await counter.consider(settled, request.spec)).toEqual({});
    expect(await all()).toHaveLength(1);
  });

  it('asks at every shared exchange when the policy says shared, at the requested ones by default', async () => {
    const request = inbound('in-as64501-9');
    await counters({ locations: 'shared' }).consider(request, request.spec);
    expect((await all())[0]?.spec.sessions).toEqual([
      expect.objectContaining(V6),
      expect.objectContaining(ELSEWHERE),
    ]);
  });

  it('under manual policy writes the counter-request suspended, for a person to release', async () => {
    const request = inbound('in-as64501-2');
    const result = await counters({ mode: 'manual' }).consider(request, request.spec);
    expect(result.condition?.message).toMatch(/set spec.suspend to false/);
    expect((await all())[0]?.spec.suspend).toBe(true);
  });

  it('sends nothing when the peer asked for everything there is', async () => {
    const request = inbound('in-as64501-3');
    const spec = {
      ...request.spec,
      sessions: [...request.spec.sessions!, { ...request.spec.sessions![0]!, ...V6 }],
    };
    const result = await counters().consider(request, spec);
    expect(result.condition).toMatchObject({ status: 'False', reason: 'NothingMissing' });
    expect(await all()).toEqual([]);
  });

  it.each([
    ['http://peering.as64501.example/v0.1', /https/],
    ['https://127.0.0.1:8443/v0.1', /loopback/],
    ['https://169.254.169.254/latest', /link-local/],
    ['https://internal.as64501.example/v0.1', /resolves to 10\.1\.2\.3 is a private address/],
    ['https://unknown.as64501.example/v0.1', /does not resolve/],
  ])('refuses the return_url %s with a warning, and sends nothing', async (url, reason) => {
    resolved.set('internal.as64501.example', ['192.0.2.81', '10.1.2.3']);
    const request = inbound('in-as64501-4', url);
    const result = await counters().consider(request, request.spec);
    expect(result.condition).toMatchObject({ status: 'False', reason: 'ReturnUrlRefused' });
    expect(result.condition?.message).toMatch(reason);
    expect(backing.events.of('peering/in-as64501-4')[0]).toMatchObject({
      type: 'Warning',
      reason: 'ReturnUrlRefused',
    });
    expect(await all()).toEqual([]);
  });

  it('a lab may use http on loopback, when configured', async () => {
    const request = inbound('in-as64501-5', 'http://127.0.0.1:8080/v0.1');
    const lab = counters({ rules: { allowLoopback: true, allowPrivate: false } });
    expect((await lab.consider(request, request.spec)).condition?.reason).toBe('Created');
  });

  it('rate-limits counter-requests per peer: the next waits for its turn', async () => {
    const counter = counters({ perPeerPerHour: 1 });
    const first = inbound('in-as64501-6');
    expect((await counter.consider(first, first.spec)).condition?.reason).toBe('Created');
    const second = inbound('in-as64501-7');
    const limited = await counter.consider(second, second.spec);
    expect(limited.condition).toMatchObject({ status: 'False', reason: 'RateLimited' });
    expect(limited.requeueAfterMs).toBeGreaterThan(3_500_000);
    expect(await all()).toHaveLength(1);
    await clock.advance(limited.requeueAfterMs!);
    expect((await counter.consider(second, second.spec)).condition?.reason).toBe('Created');
    expect(await all()).toHaveLength(2);
  });

  it('does nothing when the policy is off or the request has no return_url', async () => {
    const request = inbound('in-as64501-8');
    expect(await counters({ mode: 'off' }).consider(request, request.spec)).toEqual({});
    const spec = { ...request.spec, inbound: { ...request.spec.inbound!, returnUrl: undefined } };
    expect(await counters().consider(request, spec)).toEqual({});
    expect(await all()).toEqual([]);
  });
});
