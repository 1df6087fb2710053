import {
  describeRejection,
  reasonOf,
  rejectionsOf,
  requestConditions,
  requestPhase,
  sessionsToRemove,
  sessionsToRequest,
} from '../../src/operator/reconcilers/request-decisions.js';
import {
  keyRecord,
  recordKey,
  requestedTerms,
  termsOfRecord,
} from '../../src/operator/reconcilers/request-terms.js';
import {
  firstPollDue,
  nextPollMs,
  sessionConditions,
  nextSessionState,
  requeueAfterMs,
} from '../../src/operator/reconcilers/session-decisions.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

describe('polling the peer for an outbound session', () => {
  it('polls a young session often and an old one rarely, and backs off exponentially after failures', () => {
    expect(nextPollMs('approved', ago(0), 0, NOW)).toBe(10_000);
    expect(nextPollMs('configured', ago(600_000), 0, NOW)).toBe(60_000);
    expect(nextPollMs('configured', ago(86_400_000), 0, NOW)).toBe(300_000);
    expect([1, 2, 3, 4, 7, 20].map((f) => nextPollMs('approved', ago(0), f, NOW))).toEqual([
      5_000, 10_000, 20_000, 40_000, 300_000, 300_000,
    ]);
  });

  it('looks at an established session every 5 minutes, and never again at a final one', () => {
    expect(nextPollMs('established', ago(0), 0, NOW)).toBe(300_000);
    expect(nextPollMs('rejected', ago(0), 0, NOW)).toBeUndefined();
    expect(nextPollMs('unestablished', ago(0), 0, NOW)).toBeUndefined();
  });

  it('spreads the first polls after a restart over one interval, never later than without the restart', () => {
    const spread = [0, 0.25, 0.5, 0.999].map((r) => (firstPollDue('established', ago(0), NOW, r) ?? 0) - NOW);
    expect(spread).toEqual([0, 75_000, 150_000, 299_700]);
    expect((firstPollDue('approved', ago(0), NOW, 0.5) ?? 0) - NOW).toBe(5_000);
    expect(firstPollDue('rejected', ago(0), NOW, 0.5)).toBeUndefined();
  });
});

// The time window's rule is shared with the API server: test/domain/time-window.test.ts.

describe("a session's own life", () => {
  const WEEK = 7 * 86_400_000;

  it('starts an inbound session as our policy left it, and records when it was accepted', () => {
    expect(nextSessionState({}, 'Inbound', 'approved', NOW, WEEK)).toEqual({
      status: { state: 'approved', acceptedAt: ago(0) },
      expired: false,
    });
    expect(nextSessionState({}, 'Inbound', undefined, NOW, WEEK)).toEqual({
      status: { state: 'pending' },
      expired: false,
    });
    // Outbound, the state is the peer's word: nothing is made up before it answered.
    expect(nextSessionState({}, 'Outbound', 'approved', NOW, WEEK)).toEqual({ status: {}, expired: false });
  });

  it('keeps the first acceptance time, and expires a session that waited a whole window from it', () => {
    const accepted = { state: 'configured' as const, acceptedAt: ago(WEEK - 1) };
    expect(nextSessionState(accepted, 'Outbound', undefined, NOW, WEEK)).toEqual({
      status: accepted,
      expired: false,
    });
    expect(
      nextSessionState({ ...accepted, acceptedAt: ago(WEEK + 1) }, 'Inbound', undefined, NOW, WEEK),
    ).toEqual({
      status: {
        state: 'unestablished',
        acceptedAt: ago(WEEK + 1),
        stateReason: 'not established within the time window',
      },
      expired: true,
    });
    const established = { state: 'established' as const, acceptedAt: ago(10 * WEEK) };
    expect(nextSessionState(established, 'Inbound', undefined, NOW, WEEK).expired).toBe(false);
  });

  it('comes back at the earliest of the next poll, the next look at the router and the end of the window', () => {
    const configured = { kind: 'configured' as const, bgp: undefined, observed: undefined };
    expect(requeueAfterMs({ now: NOW, router: { kind: 'removed' } })).toBeUndefined();
    expect(requeueAfterMs({ now: NOW, pollDue: NOW + 40_000, router: configured })).toBe(15_000);
    expect(
      requeueAfterMs({
        now: NOW,
        pollDue: NOW + 40_000,
        router: { ...configured, bgp: { state: 'established' } },
        windowEnd: NOW + 999,
      }),
    ).toBe(1_000);
    expect(requeueAfterMs({ now: NOW, pollDue: NOW - 5, router: { kind: 'removed' } })).toBe(0);
  });
});

describe('session conditions', () => {
  const configured = (state: string) =>
    ({ kind: 'configured', bgp: { state }, observed: undefined }) as Parameters<typeof sessionConditions>[2];
  const byType = (conditions: ReturnType<typeof sessionConditions>) =>
    Object.fromEntries(conditions.map((c) => [c.type, `${c.status} ${c.reason}`]));

  it('is Ready only when configured and established', () => {
    expect(
      byType(sessionConditions('Inbound', { state: 'established' }, configured('established'), { ok: true })),
    ).toEqual({
      Accepted: 'True Approved',
      Configured: 'True Configured',
      Established: 'True Established',
      Ready: 'True Established',
      Synced: 'True Synced',
    });
    expect(
      byType(sessionConditions('Outbound', { state: 'configured' }, configured('active'), { ok: true })),
    ).toMatchObject({
      Established: 'False BgpActive',
      Ready: 'False BgpActive',
    });
  });

  it('tells BGP that went down (BgpDown, sticky until up) from BGP that has not come up yet', () => {
    const before = (status: 'True' | 'False', reason: string) => [{ type: 'Established', status, reason }];
    const down = sessionConditions('Outbound', { state: 'established' }, configured('active'), { ok: true }, [
      ...before('True', 'Established'),
    ]);
    expect(byType(down)).toMatchObject({ Established: 'False BgpDown', Ready: 'False BgpDown' });
    expect(down.find((c) => c.type === 'Ready')?.message).toMatch(/^BGP is down \(active\)/);
    // Still down on the next look (the previous condition says BgpDown, not True).
    expect(
      byType(
        sessionConditions('Outbound', { state: 'established' }, configured('connect'), { ok: true }, [
          ...before('False', 'BgpDown'),
        ]),
      ),
    ).toMatchObject({ Ready: 'False BgpDown' });
    // Never up before: progress, not a failure.
    expect(
      byType(
        sessionConditions('Outbound', { state: 'established' }, configured('active'), { ok: true }, [
          ...before('False', 'BgpConnect'),
        ]),
      ),
    ).toMatchObject({ Ready: 'False BgpActive' });
    // The session's own status says down (inbound: our router saw it go).
    expect(
      byType(sessionConditions('Inbound', { state: 'down' }, configured('idle'), { ok: true })),
    ).toMatchObject({ Ready: 'False BgpDown' });
  });

  it('explains a pending, rejected or refused session by its first cause', () => {
    expect(
      byType(sessionConditions('Outbound', { state: 'pending' }, { kind: 'removed' }, { ok: true })),
    ).toMatchObject({
      Accepted: 'Unknown PendingApproval',
      Ready: 'False PendingApproval',
    });
    expect(
      byType(
        sessionConditions(
          'Inbound',
          { state: 'approved' },
          { kind: 'refused', reason: 'RouterRejected', message: 'no' },
          {
            ok: false,
            reason: 'RouterRejected',
            message: 'no',
          },
        ),
      ),
    ).toMatchObject({
      Configured: 'False RouterRejected',
      Ready: 'False RouterRejected',
      Synced: 'False RouterRejected',
    });
    expect(
      byType(
        sessionConditions(
          'Outbound',
          { state: 'unestablished', stateReason: 'window' },
          { kind: 'removed' },
          { ok: true },
        ),
      ),
    ).toMatchObject({ Accepted: 'False Unestablished', Ready: 'False Unestablished' });
  });

  it('keeps a failing peer API apart from BGP: Synced False, Ready still True', () => {
    const conditions = byType(
      sessionConditions('Outbound', { state: 'established' }, configured('established'), {
        ok: false,
        reason: 'RemoteUnavailable',
        message: 'down',
      }),
    );
    expect([conditions['Ready'], conditions['Synced']]).toEqual([
      'True Established',
      'False RemoteUnavailable',
    ]);
  });
});

describe('outbound request decisions', () => {
  const request = { localAsn: 64500, peerAsn: 64501 };
  const spec = (localIp: string, peerIp: string) =>
    requestedTerms(request, {
      location: 'pdb:ix:1',
      localIp,
      peerIp,
      localInsertAsn: true,
      peerInsertAsn: true,
      localMonitoringSession: false,
      peerMonitoringSession: false,
      sessionSecret: 'secret',
    });

  it('turns an explicit session into terms in our reading, with canonical addresses', () => {
    const wanted = spec('2001:DB8:1:0::1', '2001:db8:1::2');
    expect(keyRecord(wanted)).toEqual({
      location: 'pdb:ix:1',
      localIp: '2001:db8:1::1',
      peerIp: '2001:db8:1::2',
    });
    expect(wanted).toMatchObject({
      localAsn: 64500,
      peerAsn: 64501,
      location: { id: 'pdb:ix:1', type: 'public' },
      peerType: 'public',
      sessionSecret: 'secret',
    });
  });

  it('keys a status record and the terms it came from alike (the natural key, peer ASN included)', () => {
    const wanted = spec('2001:DB8:1:0::1', '2001:db8:1::2');
    const record = { location: 'pdb:ix:1', localIp: '2001:db8:1:0:0::1', peerIp: '2001:DB8:1::2' };
    expect(recordKey(64501, record)).toBe('64501|pdb:ix:1|2001:db8:1::1|2001:db8:1::2');
    expect(recordKey(64501, record)).toBe(recordKey(64501, keyRecord(wanted)));
    expect(recordKey(64502, record)).not.toBe(recordKey(64501, record));
  });

  it('takes an explicit session as written and gives a discovered one the request defaults', () => {
    const full = {
      direction: 'Outbound' as const,
      ...request,
      addressFamilies: ['ipv4' as const],
      approved: false,
      sessionDefaults: { localBgpRole: 4 as const, peerBgpRole: 4 as const },
      sessions: [
        {
          location: 'pdb:ix:1',
          localIp: '192.0.2.1',
          peerIp: '192.0.2.2',
          localInsertAsn: false,
          peerInsertAsn: true,
          localMonitoringSession: false,
          peerMonitoringSession: false,
        },
      ],
    };
    const explicit = termsOfRecord(full, { location: 'pdb:ix:1', localIp: '192.0.2.1', peerIp: '192.0.2.2' });
    expect(explicit).toMatchObject({ localInsertAsn: false, localBgpRole: undefined });
    const discovered = termsOfRecord(
      { ...full, sessions: undefined },
      { location: 'pdb:ix:1', localIp: '192.0.2.1', peerIp: '192.0.2.2' },
    );
    expect(discovered).toMatchObject({ localInsertAsn: true, localBgpRole: 4, peerBgpRole: 4 });
  });

  it('asks only for what is neither accepted nor refused in this generation, and retries refusals of older ones', () => {
    const wanted = [
      spec('192.0.2.1', '192.0.2.2'),
      spec('192.0.2.3', '192.0.2.2'),
      spec('192.0.2.5', '192.0.2.2'),
    ];
    const status = {
      accepted: [
        {
          name: 'a',
          sessionId: '0d9c2b4e-6f11-4c55-9d39-1c1f1b0c8a11',
          location: 'pdb:ix:1',
          localIp: '192.0.2.1',
          peerIp: '192.0.2.2',
        },
      ],
      rejected: [
        {
          location: 'pdb:ix:1',
          localIp: '192.0.2.3',
          peerIp: '192.0.2.2',
          code: 'X',
          reason: 'X',
          message: '',
          generation: 2,
        },
        {
          location: 'pdb:ix:1',
          localIp: '192.0.2.5',
          peerIp: '192.0.2.2',
          code: 'X',
          reason: 'X',
          message: '',
          generation: 1,
        },
      ],
    };
    expect(sessionsToRequest(wanted, status, 2, 64501).map((w) => w.localIp)).toEqual(['192.0.2.5']);
    expect(sessionsToRemove(wanted.slice(1), status, 64501).map((a) => a.name)).toEqual(['a']);
  });

  it("maps the peer's indexed errors to the sessions of the batch, and unindexed ones to all of them", () => {
    const batch = [keyRecord(spec('192.0.2.1', '192.0.2.2')), keyRecord(spec('192.0.2.3', '192.0.2.2'))];
    const rejections = rejectionsOf(
      batch,
      [
        {
          name: 'sessions[1].peer_ip',
          field: 'sessions[1].local_ip',
          code: 'PEER_IP_NOT_REGISTERED',
          errors: ['not in PeeringDB'],
        },
        {
          name: 'sessions[1].location',
          field: 'sessions[1].location',
          code: 'LOCATION_UNKNOWN',
          errors: ['no such IX'],
        },
      ],
      3,
    );
    expect(rejections).toEqual([
      {
        ...batch[1],
        // The peer's PEER_IP_NOT_REGISTERED is about our address: in our reading, our localIp.
        field: 'sessions[1].localIp',
        code: 'PEER_IP_NOT_REGISTERED',
        reason: 'LocalIpNotRegistered',
        message: 'not in PeeringDB; no such IX',
        generation: 3,
      },
    ]);
    expect(
      rejectionsOf(
        batch,
        [{ name: 'request', field: 'request', errors: ['nope'], code: 'weird-code' }],
        1,
      ).map((r) => [recordKey(64501, r), r.reason]),
    ).toEqual([
      ['64501|pdb:ix:1|192.0.2.1|192.0.2.2', 'WeirdCode'],
      ['64501|pdb:ix:1|192.0.2.3|192.0.2.2', 'WeirdCode'],
    ]);
    expect(reasonOf('RATE_LIMITED')).toBe('RateLimited');
    // The peer's words about its own address, read by us: our peerIp is not theirs.
    expect(reasonOf('LOCAL_IP_NOT_OURS', 'initiator')).toBe('PeerIpNotTheirs');
    expect(reasonOf('LOCAL_IP_NOT_OURS')).toBe('LocalIpNotOurs');
  });

  it('names the phase from what was answered and how the sessions fare', () => {
    const accepted = [
      {
        name: 'a',
        sessionId: '0d9c2b4e-6f11-4c55-9d39-1c1f1b0c8a11',
        location: 'x',
        localIp: '1',
        peerIp: '2',
      },
    ];
    const rejected = [{ code: 'X', reason: 'X', message: '' }];
    expect(requestPhase({}, [], false)).toBe('Pending');
    expect(requestPhase({ intent: { id: 'i', generation: 1, startedAt: '', sessions: [] } }, [], false)).toBe(
      'Requesting',
    );
    expect(requestPhase({ rejected }, [], false)).toBe('Rejected');
    expect(requestPhase({ accepted }, ['approved'], false)).toBe('Requested');
    expect(requestPhase({ accepted }, ['established'], false)).toBe('Established');
    expect(requestPhase({ accepted, rejected }, ['established'], false)).toBe('PartiallyRejected');
    expect(requestPhase({ accepted }, ['unestablished'], false)).toBe('Expired');
    expect(requestPhase({ accepted }, ['pending'], true)).toBe('PendingApproval');
    expect(requestPhase({ accepted }, ['approved'], true)).toBe('Approved');
  });

  describe('request conditions', () => {
    const entry = (name: string, state?: string) => ({
      name,
      sessionId: '0d9c2b4e-6f11-4c55-9d39-1c1f1b0c8a11',
      location: 'pdb:ix:1',
      localIp: '192.0.2.1',
      peerIp: '192.0.2.2',
      ...(state ? { state: state as 'pending' } : {}),
    });
    const byType = (conditions: ReturnType<typeof requestConditions>) =>
      Object.fromEntries(conditions.map((c) => [c.type, `${c.status} ${c.reason}: ${c.message}`]));

    it('says a failure before any answer in Ready, with its reason', () => {
      expect(
        byType(
          requestConditions({}, [], {
            inbound: false,
            failure: { reason: 'SecretNotFound', message: 'Secret peering/peering-as64502 does not exist' },
          }),
        ),
      ).toEqual({
        Accepted: 'Unknown NotRequested: nothing requested yet',
        Ready: 'False SecretNotFound: Secret peering/peering-as64502 does not exist',
      });
    });

    it('does not call sessions accepted while they wait for approval', () => {
      const pending = byType(
        requestConditions(
          { accepted: [entry('a', 'pending')] },
          [{ name: 'a', ready: false, reason: 'PendingApproval' }],
          {
            inbound: true,
          },
        ),
      );
      expect(pending['Accepted']).toBe(
        'Unknown PendingApproval: 1 session(s) waiting for approval (approve them with a PeeringApproval or spec.approved: true), 0 rejected',
      );
      expect(
        byType(
          requestConditions({ accepted: [entry('a', 'approved'), entry('b', 'pending')] }, [], {
            inbound: true,
          }),
        )['Accepted'],
      ).toBe('True Accepted: 1 session(s) accepted, 1 waiting for approval, 0 rejected');
    });

    it('names a full rejection in words even when the rejected input had no session key', () => {
      const unparsed = {
        field: 'sessions[0].peer_ip',
        code: 'INVALID_FIELD',
        reason: 'InvalidField',
        message: 'bad',
      };
      expect(describeRejection(unparsed)).toBe('sessions[0].peer_ip: bad');
      const inbound = byType(requestConditions({ rejected: [unparsed] }, [], { inbound: true }));
      expect(inbound['Accepted']).toBe(
        'False Rejected: every session was rejected; first: sessions[0].peer_ip: bad (InvalidField)',
      );
      expect(inbound['Accepted']).not.toMatch(/undefined/);
      const outbound = byType(
        requestConditions(
          { rejected: [{ ...unparsed, location: 'pdb:ix:1', localIp: '192.0.2.1', peerIp: '192.0.2.9' }] },
          [],
          { inbound: false },
        ),
      );
      expect(outbound['Ready']).toMatch(
        /^False PeerRejected: every session was rejected; first: pdb:ix:1 192\.0\.2\.1-192\.0\.2\.9/,
      );
    });

    it('names a session that is down before one that is still coming up, and a duplicate with its owner', () => {
      const conditions = byType(
        requestConditions(
          { accepted: [entry('a', 'established'), entry('b', 'established'), entry('c', 'established')] },
          [
            { name: 'a', ready: false, reason: 'BgpActive', message: 'BGP is active' },
            { name: 'b', ready: false, reason: 'BgpDown', message: 'BGP is down (active)' },
            { name: 'c', ready: true, reason: 'Established' },
          ],
          { inbound: false },
        ),
      );
      expect(conditions['Ready']).toBe(
        'False BgpDown: 1 of 3 session(s) ready; b is not (BgpDown: BGP is down (active))',
      );
    });
  });
});
