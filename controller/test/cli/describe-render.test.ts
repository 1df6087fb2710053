import {
  ageOf,
  describeRequest,
  describeSession,
  humanDuration,
  renderRequestDescription,
  renderSessionDescription,
  type KubeEvent,
} from '../../src/cli/peeringctl/describe-render.js';
import { API_VERSION, LABEL } from '../../src/operator/resources/api-group.js';
import { setConditions, type DesiredCondition } from '../../src/operator/resources/conditions.js';
import type { PeeringRequest } from '../../src/operator/resources/peering-request.js';
import type { PeeringSession } from '../../src/operator/resources/peering-session.js';

// Objects as the operator writes them: conditions through its own setConditions, labels and owner references as
// the outbound reconciler sets them, Events as KubeEventRecorder posts them. The clock is fixed.
const NOW = new Date('2025-06-01T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();
/** The escape that starts an ANSI colour. */
const ESC = String.fromCharCode(27);
const REQUEST_UID = '6f1d7a3e-0000-4000-8000-000000000001';

function conditions(desired: DesiredCondition[], secondsAgo: number, generation = 1) {
  return setConditions([], desired, generation, new Date(NOW.getTime() - secondsAgo * 1000)).conditions;
}

const request: PeeringRequest = {
  apiVersion: API_VERSION,
  kind: 'PeeringRequest',
  metadata: {
    name: 'as64501',
    namespace: 'peering',
    uid: REQUEST_UID,
    generation: 2,
    creationTimestamp: ago(3600),
  },
  spec: {
    direction: 'Outbound',
    localAsn: 64500,
    peerAsn: 64501,
    peerApiUrl: 'https://peering.example.net/v0.1',
    addressFamilies: ['ipv4', 'ipv6'],
    approved: false,
  },
  status: {
    phase: 'PartiallyRejected',
    requestId: '2b7c1a52-9a3e-4a35-8d3f-2f4f7f0e1c11',
    sessionCounts: { accepted: 2, rejected: 1, established: 1 },
    rejected: [
      {
        location: 'pdb:ix:2',
        localIp: '198.51.100.1',
        peerIp: '198.51.100.2',
        field: 'peer_ip',
        code: 'PEER_IP_NOT_REGISTERED',
        reason: 'PeerIpNotRegistered',
        message: "peer_ip is not one of the caller's addresses\nat this location in PeeringDB",
        generation: 1,
      },
    ],
    conditions: [
      ...conditions(
        [
          {
            type: 'Accepted',
            status: 'True',
            reason: 'PartiallyAccepted',
            message: '2 session(s) accepted, 1 rejected',
          },
        ],
        3000,
      ),
      ...conditions(
        [
          {
            type: 'Ready',
            status: 'False',
            reason: 'BgpActive',
            message: '1 of 2 session(s) ready; as64501-ix1-v6 is not (BgpActive)',
          },
        ],
        330,
      ),
    ],
    observedGeneration: 1,
  },
};

function session(
  name: string,
  uid: string,
  fields: Partial<PeeringSession['spec']>,
  status: PeeringSession['status'],
) {
  const value: PeeringSession = {
    apiVersion: API_VERSION,
    kind: 'PeeringSession',
    metadata: {
      name,
      namespace: 'peering',
      uid,
      generation: 1,
      creationTimestamp: ago(3000),
      labels: { [LABEL.request]: 'as64501', [LABEL.direction]: 'outbound' },
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: 'PeeringRequest',
          name: 'as64501',
          uid: REQUEST_UID,
          controller: true,
        },
      ],
    },
    spec: {
      direction: 'Outbound',
      sessionId: '0d9c2b4e-6f11-4c55-9d39-1c1f1b0c8a11',
      requestId: '2b7c1a52-9a3e-4a35-8d3f-2f4f7f0e1c11',
      localAsn: 64500,
      localIp: '192.0.2.1',
      peerAsn: 64501,
      peerIp: '192.0.2.2',
      peerType: 'public',
      location: { id: 'pdb:ix:1', type: 'public' },
      localInsertAsn: true,
      peerInsertAsn: true,
      localMonitoringSession: false,
      peerMonitoringSession: false,
      peerApiUrl: 'https://peering.example.net/v0.1',
      ...fields,
    },
    status,
  };
  return value;
}

const v4 = session(
  'as64501-ix1-v4',
  'uid-v4',
  {},
  {
    state: 'established',
    bgp: { state: 'established', since: ago(2900), prefixesReceived: 12, prefixesSent: 3 },
    router: { name: 'edge1', maxPrefixes: 100 },
    conditions: conditions(
      [
        { type: 'Accepted', status: 'True', reason: 'Approved', message: 'the session is established' },
        { type: 'Configured', status: 'True', reason: 'Configured', message: 'configured on our router' },
        { type: 'Established', status: 'True', reason: 'Established', message: 'BGP is established' },
        { type: 'Ready', status: 'True', reason: 'Established', message: 'BGP is established' },
        { type: 'Synced', status: 'True', reason: 'Synced', message: 'the last exchange succeeded' },
      ],
      2900,
    ),
    observedGeneration: 1,
  },
);

const v6 = session(
  'as64501-ix1-v6',
  'uid-v6',
  { sessionId: '7c0f3d8a-2b1e-4f6a-9e0d-3a5b7c9d1e22', localIp: '2001:db8::1', peerIp: '2001:db8::2' },
  {
    state: 'configured',
    lastSyncTime: ago(20),
    syncFailures: 2,
    bgp: { state: 'active', since: ago(330), lastError: 'Connection refused' },
    router: { name: 'edge1' },
    routerReport: {
      router: 'edge1',
      observedGeneration: 1,
      configured: true,
      bgp: { state: 'active', since: ago(330), lastError: 'Connection refused' },
      observedTime: ago(4),
    },
    conditions: [
      ...conditions(
        [
          { type: 'Accepted', status: 'True', reason: 'Approved', message: 'the session is configured' },
          { type: 'Configured', status: 'True', reason: 'Configured', message: 'configured on our router' },
        ],
        2900,
      ),
      ...conditions(
        [
          {
            type: 'Established',
            status: 'False',
            reason: 'BgpActive',
            message: 'BGP is active: Connection refused',
          },
          {
            type: 'Ready',
            status: 'False',
            reason: 'BgpActive',
            message: 'BGP is active: Connection refused',
          },
          {
            type: 'Synced',
            status: 'False',
            reason: 'PeerUnreachable',
            message: 'GET /sessions/7c0f…: timed out',
          },
        ],
        330,
      ),
    ],
    observedGeneration: 1,
  },
);

/** An Event as KubeEventRecorder posts it. */
function event(
  kind: 'PeeringRequest' | 'PeeringSession',
  name: string,
  uid: string,
  secondsAgo: number,
  reason: string,
  message: string,
  extra: Partial<KubeEvent> = {},
): KubeEvent {
  return {
    metadata: { name: `${name}.${reason.toLowerCase()}${secondsAgo}`, namespace: 'peering' },
    involvedObject: { kind, name, uid },
    type: reason.startsWith('Bgp') || reason === 'PeerUnreachable' ? 'Warning' : 'Normal',
    reason,
    message,
    count: 1,
    firstTimestamp: ago(secondsAgo),
    lastTimestamp: ago(secondsAgo),
    ...extra,
  };
}

const events: KubeEvent[] = [
  event(
    'PeeringSession',
    'as64501-ix1-v6',
    'uid-v6',
    330,
    'BgpActive',
    'Established is False: BGP is active',
  ),
  event('PeeringRequest', 'as64501', REQUEST_UID, 3590, 'Requested', 'asked AS64501 for 3 session(s)'),
  event(
    'PeeringRequest',
    'as64501',
    REQUEST_UID,
    3000,
    'PartiallyAccepted',
    'Accepted is True: 2 accepted, 1 rejected',
  ),
  event(
    'PeeringSession',
    'as64501-ix1-v4',
    'uid-v4',
    2900,
    'Established',
    'Ready is True: BGP is established',
  ),
  event('PeeringSession', 'as64501-ix1-v6', 'uid-v6', 20, 'PeerUnreachable', 'Synced is False: timed out', {
    count: 3,
    firstTimestamp: ago(200),
  }),
  // An earlier object of the same name (deleted and created again): not this session's history.
  event('PeeringSession', 'as64501-ix1-v4', 'uid-of-an-older-v4', 10, 'Removed', 'de-peered'),
  // Another request's Event.
  event('PeeringRequest', 'as64502', 'uid-other', 10, 'Requested', 'asked AS64502'),
];

describe('describe peeringrequest: from the objects to one screen', () => {
  const description = describeRequest({ request, sessions: [v6, v4], events });

  it('gathers the request, its sessions sorted by name, and their Events most recent last', () => {
    expect(description).toMatchObject({
      kind: 'PeeringRequest',
      name: 'as64501',
      namespace: 'peering',
      phase: 'PartiallyRejected',
      generation: 2,
      observedGeneration: 1,
      eventsOmitted: 0,
    });
    expect(description.sessions.map((s) => [s.name, s.bgpState, s.router, s.ready?.reason])).toEqual([
      ['as64501-ix1-v4', 'established', 'edge1', 'Established'],
      ['as64501-ix1-v6', 'active', 'edge1', 'BgpActive'],
    ]);
    expect(description.sessions[1]?.notTrue.map((c) => c.type)).toEqual(['Established', 'Ready', 'Synced']);
    expect(description.events.map((e) => e.reason)).toEqual([
      'Requested',
      'PartiallyAccepted',
      'Established',
      'BgpActive',
      'PeerUnreachable',
    ]);
    // What -o json prints is plain data.
    expect(JSON.parse(JSON.stringify(description))).toEqual(description);
  });

  it('prints header, conditions, rejections, sessions, conditions not True and Events, columns aligned', () => {
    expect(renderRequestDescription(description, { now: NOW, colour: false })).toBe(
      [
        'Name:        as64501',
        'Namespace:   peering',
        'Direction:   Outbound',
        'Local ASN:   64500',
        'Peer ASN:    64501',
        'Peer API:    https://peering.example.net/v0.1',
        'Phase:       PartiallyRejected',
        'Request ID:  2b7c1a52-9a3e-4a35-8d3f-2f4f7f0e1c11',
        'Sessions:    2 accepted, 1 rejected, 1 established',
        'Generation:  2, observed 1 (the operator has not caught up)',
        `Created:     60m ago (${ago(3600)})`,
        '',
        'Conditions:',
        '  TYPE      STATUS  REASON             AGE    MESSAGE',
        '  Accepted  True    PartiallyAccepted  50m    2 session(s) accepted, 1 rejected',
        '  Ready     False   BgpActive          5m30s  1 of 2 session(s) ready; as64501-ix1-v6 is not (BgpActive)',
        '',
        'Rejected sessions (1):',
        '  LOCATION  LOCAL IP      PEER IP       FIELD    CODE                    REASON               MESSAGE',
        "  pdb:ix:2  198.51.100.1  198.51.100.2  peer_ip  PEER_IP_NOT_REGISTERED  PeerIpNotRegistered  peer_ip is not one of the caller's addresses at this location in PeeringDB",
        '',
        'Sessions (2):',
        '  NAME            LOCATION  LOCAL IP     PEER IP      STATE        BGP          ROUTER  READY  REASON',
        '  as64501-ix1-v4  pdb:ix:1  192.0.2.1    192.0.2.2    established  established  edge1   True   Established',
        '  as64501-ix1-v6  pdb:ix:1  2001:db8::1  2001:db8::2  configured   active       edge1   False  BgpActive',
        '',
        'Session conditions not True:',
        '  SESSION         TYPE         STATUS  REASON           AGE    MESSAGE',
        '  as64501-ix1-v6  Established  False   BgpActive        5m30s  BGP is active: Connection refused',
        '  as64501-ix1-v6  Ready        False   BgpActive        5m30s  BGP is active: Connection refused',
        '  as64501-ix1-v6  Synced       False   PeerUnreachable  5m30s  GET /sessions/7c0f…: timed out',
        '',
        'Events:',
        '  AGE                  TYPE     REASON             OBJECT                         MESSAGE',
        '  59m                  Normal   Requested          PeeringRequest/as64501         asked AS64501 for 3 session(s)',
        '  50m                  Normal   PartiallyAccepted  PeeringRequest/as64501         Accepted is True: 2 accepted, 1 rejected',
        '  48m                  Normal   Established        PeeringSession/as64501-ix1-v4  Ready is True: BGP is established',
        '  5m30s                Warning  BgpActive          PeeringSession/as64501-ix1-v6  Established is False: BGP is active',
        '  20s (x3 over 3m20s)  Warning  PeerUnreachable    PeeringSession/as64501-ix1-v6  Synced is False: timed out',
        '',
      ].join('\n'),
    );
  });

  it('colours statuses on a terminal without moving a column', () => {
    const coloured = renderRequestDescription(description, { now: NOW, colour: true });
    expect(coloured).toContain('\x1b[31mFalse\x1b[0m');
    expect(coloured).toContain('\x1b[32mTrue\x1b[0m');
    expect(coloured).toContain('\x1b[33mWarning\x1b[0m');
    expect(coloured.replace(new RegExp(`${ESC}\\[\\d+m`, 'g'), '')).toBe(
      renderRequestDescription(description, { now: NOW, colour: false }),
    );
  });

  it('keeps the last N Events and says how many were left out', () => {
    const many = Array.from({ length: 14 }, (_, i) =>
      event('PeeringRequest', 'as64501', REQUEST_UID, 1000 - i * 10, `Step${i}`, `step ${i}`),
    );
    const d = describeRequest({ request, sessions: [], events: many });
    expect(d.events.map((e) => e.reason)).toEqual(Array.from({ length: 10 }, (_, i) => `Step${i + 4}`));
    expect(d.eventsOmitted).toBe(4);
    expect(renderRequestDescription(d, { now: NOW, colour: false })).toContain('Events (last 10 of 14):');
    expect(describeRequest({ request, sessions: [], events: many }, { maxEvents: 3 }).events).toHaveLength(3);
  });

  it('says so when a request is new, has no sessions, or its Events cannot be read', () => {
    const fresh: PeeringRequest = {
      ...request,
      metadata: { ...request.metadata, generation: 1 },
      status: undefined,
    };
    const text = renderRequestDescription(
      describeRequest({ request: fresh, sessions: [], events: [], eventsError: 'GET …/events: forbidden' }),
      { now: NOW, colour: false },
    );
    expect(text).toContain('Phase:       (not reconciled yet)');
    expect(text).toContain('Generation:  1, not observed yet');
    expect(text).toContain('Conditions: <none>');
    expect(text).toContain('Sessions: <none>');
    expect(text).toContain('Events: (not readable)\n  GET …/events: forbidden');
    expect(text).not.toContain('Rejected sessions');
    expect(text).not.toContain('Session conditions not True');
  });
});

describe('describe peeringsession', () => {
  it('prints the terms, state, BGP, router report, conditions and its Events only', () => {
    const text = renderSessionDescription(describeSession({ session: v6, events }), {
      now: NOW,
      colour: false,
    });
    expect(text).toBe(
      [
        'Name:           as64501-ix1-v6',
        'Namespace:      peering',
        'Request:        as64501',
        'Direction:      Outbound',
        'Session ID:     7c0f3d8a-2b1e-4f6a-9e0d-3a5b7c9d1e22',
        'Request ID:     2b7c1a52-9a3e-4a35-8d3f-2f4f7f0e1c11',
        'Location:       pdb:ix:1 (public)',
        'Local:          AS64500 2001:db8::1',
        'Peer:           AS64501 2001:db8::2',
        'Peer API:       https://peering.example.net/v0.1',
        'State:          configured',
        'BGP:            active, since 5m30s, last error: Connection refused',
        'Router:         edge1',
        'Router report:  configured by edge1, generation 1, 4s ago',
        'Last sync:      20s ago (2 failed since)',
        'Generation:     1, observed 1',
        `Created:        50m ago (${ago(3000)})`,
        '',
        'Conditions:',
        '  TYPE         STATUS  REASON           AGE    MESSAGE',
        '  Accepted     True    Approved         48m    the session is configured',
        '  Configured   True    Configured       48m    configured on our router',
        '  Established  False   BgpActive        5m30s  BGP is active: Connection refused',
        '  Ready        False   BgpActive        5m30s  BGP is active: Connection refused',
        '  Synced       False   PeerUnreachable  5m30s  GET /sessions/7c0f…: timed out',
        '',
        'Events:',
        '  AGE                  TYPE     REASON           OBJECT                         MESSAGE',
        '  5m30s                Warning  BgpActive        PeeringSession/as64501-ix1-v6  Established is False: BGP is active',
        '  20s (x3 over 3m20s)  Warning  PeerUnreachable  PeeringSession/as64501-ix1-v6  Synced is False: timed out',
        '',
      ].join('\n'),
    );
  });

  it('leaves out the Events of an earlier object of the same name', () => {
    const d = describeSession({ session: v4, events });
    expect(d.events.map((e) => e.reason)).toEqual(['Established']);
  });
});

describe('ages, as kubectl prints them', () => {
  it.each([
    [0, '0s'],
    [59, '59s'],
    [119, '119s'],
    [330, '5m30s'],
    [600, '10m'],
    [3 * 3600 + 5 * 60, '3h5m'],
    [30 * 3600, '30h'],
    [3 * 86400 + 2 * 3600, '3d2h'],
    [40 * 86400, '40d'],
    [3 * 365 * 86400 + 86400, '3y1d'],
  ])('%i s is %s', (seconds, text) => {
    expect(humanDuration(seconds * 1000)).toBe(text);
  });

  it('has no age for a missing time, and none ahead of now', () => {
    expect(ageOf(undefined, NOW)).toBe('<unknown>');
    expect(ageOf('soon', NOW)).toBe('<unknown>');
    expect(ageOf(new Date(NOW.getTime() + 5000).toISOString(), NOW)).toBe('0s');
  });
});
