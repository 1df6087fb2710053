import { LABEL } from '../../operator/resources/api-group.js';
import type { Condition } from '../../operator/resources/conditions.js';
import type { PeeringRequest, SessionRejection } from '../../operator/resources/peering-request.js';
import type {
  BgpObservation,
  PeeringSession,
  RouterReport,
} from '../../operator/resources/peering-session.js';

/**
 * `peeringctl describe`, the pure half: from the objects read off the cluster to a description (what `-o json`
 * prints) and from a description to one screen of text. No I/O and no clock here: `now` is given, so the same
 * objects always print the same text.
 */

/** The fields of a core/v1 Event that describe reads: what `kubectl describe` shows. */
export interface KubeEvent {
  metadata: { name: string; namespace?: string | undefined; creationTimestamp?: string | undefined };
  involvedObject: { kind?: string | undefined; name?: string | undefined; uid?: string | undefined };
  type?: string | undefined;
  reason?: string | undefined;
  message?: string | undefined;
  count?: number | undefined;
  firstTimestamp?: string | null | undefined;
  lastTimestamp?: string | null | undefined;
  /** Set instead of the timestamps by events.k8s.io/v1 writers. */
  eventTime?: string | null | undefined;
  series?: { count?: number | undefined; lastObservedTime?: string | undefined } | null | undefined;
}

/** What the I/O layer gathered for `describe peeringrequest`. */
export interface RequestSnapshot {
  request: PeeringRequest;
  /** The PeeringSessions labelled with the request's name. */
  sessions: readonly PeeringSession[];
  /** Events of the request and of those sessions, in any order. */
  events: readonly KubeEvent[];
  /** Why Events could not be read (e.g. RBAC); everything else is still described. */
  eventsError?: string | undefined;
}

/** What the I/O layer gathered for `describe peeringsession`. */
export interface SessionSnapshot {
  session: PeeringSession;
  events: readonly KubeEvent[];
  eventsError?: string | undefined;
}

export interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime?: string | undefined;
}

export interface EventView {
  /** `PeeringRequest/<name>` or `PeeringSession/<name>`. */
  object: string;
  type: string;
  reason: string;
  message: string;
  /** When it last happened (for a repeated Event) or happened. */
  lastSeen?: string | undefined;
  firstSeen?: string | undefined;
  count: number;
}

/** One session of a request, as the request's description lists it. */
export interface SessionRow {
  name: string;
  location: string;
  localIp: string;
  peerIp: string;
  state?: string | undefined;
  stateReason?: string | undefined;
  bgpState?: string | undefined;
  router?: string | undefined;
  ready?: ConditionView | undefined;
  /** Its conditions whose status is not True (Ready included). */
  notTrue: ConditionView[];
  deletingSince?: string | undefined;
}

interface EventsPart {
  /** The most recent Events, oldest first. */
  events: EventView[];
  /** Older Events left out (beyond `maxEvents`). */
  eventsOmitted: number;
  eventsError?: string | undefined;
}

/** `describe peeringrequest`, as data: what `-o json` prints and {@link renderRequestDescription} lays out. */
export interface RequestDescription extends EventsPart {
  kind: 'PeeringRequest';
  name: string;
  namespace: string;
  createdAt?: string | undefined;
  deletingSince?: string | undefined;
  direction: string;
  localAsn: number;
  peerAsn: number;
  phase?: string | undefined;
  requestId?: string | undefined;
  peerApiUrl?: string | undefined;
  generation?: number | undefined;
  observedGeneration?: number | undefined;
  sessionCounts?: { accepted: number; pending?: number | undefined; rejected: number; established: number };
  conditions: ConditionView[];
  rejected: SessionRejection[];
  sessions: SessionRow[];
}

/** `describe peeringsession`, as data. */
export interface SessionDescription extends EventsPart {
  kind: 'PeeringSession';
  name: string;
  namespace: string;
  /** The PeeringRequest it belongs to (its label). */
  request?: string | undefined;
  createdAt?: string | undefined;
  deletingSince?: string | undefined;
  direction: string;
  sessionId: string;
  requestId?: string | undefined;
  location: { id: string; type: string };
  localAsn: number;
  localIp: string;
  peerAsn: number;
  peerIp: string;
  peerApiUrl?: string | undefined;
  state?: string | undefined;
  stateReason?: string | undefined;
  acceptedAt?: string | undefined;
  lastSyncTime?: string | undefined;
  syncFailures?: number | undefined;
  bgp?: BgpObservation | undefined;
  router?: { name: string; maxPrefixes?: number | undefined } | undefined;
  routerReport?: RouterReport | undefined;
  generation?: number | undefined;
  observedGeneration?: number | undefined;
  conditions: ConditionView[];
}

export interface DescribeOptions {
  /** How many of the most recent Events to keep; default 10. */
  maxEvents?: number;
}

export const DEFAULT_MAX_EVENTS = 10;

/**
 * The description of a request from what was read: its sessions sorted by name, its and their Events merged,
 * most recent last.
 *
 * @example
 * const description = describeRequest({ request, sessions, events });
 * process.stdout.write(renderRequestDescription(description, { now: new Date(), colour: false }));
 */
export function describeRequest(
  snapshot: RequestSnapshot,
  options: DescribeOptions = {},
): RequestDescription {
  const { request } = snapshot;
  const { metadata, spec, status } = request;
  const sessions = [...snapshot.sessions].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const subjects = [request, ...sessions];
  return {
    kind: 'PeeringRequest',
    name: metadata.name,
    namespace: metadata.namespace,
    createdAt: metadata.creationTimestamp,
    deletingSince: metadata.deletionTimestamp ?? undefined,
    direction: spec.direction,
    localAsn: spec.localAsn,
    peerAsn: spec.peerAsn,
    phase: status?.phase,
    requestId: status?.requestId,
    peerApiUrl: spec.peerApiUrl,
    generation: metadata.generation,
    observedGeneration: status?.observedGeneration,
    sessionCounts: status?.sessionCounts,
    conditions: (status?.conditions ?? []).map(conditionView),
    rejected: status?.rejected ?? [],
    sessions: sessions.map(sessionRow),
    ...eventsPart(snapshot.events, subjects, snapshot.eventsError, options),
  };
}

/** The description of one session from what was read. */
export function describeSession(
  snapshot: SessionSnapshot,
  options: DescribeOptions = {},
): SessionDescription {
  const { metadata, spec, status } = snapshot.session;
  return {
    kind: 'PeeringSession',
    name: metadata.name,
    namespace: metadata.namespace,
    request: metadata.labels?.[LABEL.request],
    createdAt: metadata.creationTimestamp,
    deletingSince: metadata.deletionTimestamp ?? undefined,
    direction: spec.direction,
    sessionId: spec.sessionId,
    requestId: spec.requestId,
    location: { id: spec.location.id, type: spec.location.type },
    localAsn: spec.localAsn,
    localIp: spec.localIp,
    peerAsn: spec.peerAsn,
    peerIp: spec.peerIp,
    peerApiUrl: spec.peerApiUrl,
    state: status?.state,
    stateReason: status?.stateReason,
    acceptedAt: status?.acceptedAt,
    lastSyncTime: status?.lastSyncTime,
    syncFailures: status?.syncFailures,
    bgp: status?.bgp ?? status?.routerReport?.bgp,
    router: status?.router,
    routerReport: status?.routerReport,
    generation: metadata.generation,
    observedGeneration: status?.observedGeneration,
    conditions: (status?.conditions ?? []).map(conditionView),
    ...eventsPart(snapshot.events, [snapshot.session], snapshot.eventsError, options),
  };
}

function sessionRow(session: PeeringSession): SessionRow {
  const { metadata, spec, status } = session;
  const conditions = (status?.conditions ?? []).map(conditionView);
  return {
    name: metadata.name,
    location: spec.location.id,
    localIp: spec.localIp,
    peerIp: spec.peerIp,
    state: status?.state,
    stateReason: status?.stateReason,
    bgpState: (status?.bgp ?? status?.routerReport?.bgp)?.state,
    router: status?.router?.name ?? status?.routerReport?.router,
    ready: conditions.find((c) => c.type === 'Ready'),
    notTrue: conditions.filter((c) => c.status !== 'True'),
    deletingSince: metadata.deletionTimestamp ?? undefined,
  };
}

function conditionView(condition: Condition): ConditionView {
  return {
    type: condition.type,
    status: condition.status,
    reason: condition.reason,
    message: condition.message,
    lastTransitionTime: condition.lastTransitionTime,
  };
}

interface EventSubject {
  kind: string;
  metadata: { name: string; uid?: string | undefined };
}

/**
 * The Events about the subjects, most recent last, the last `maxEvents` of them. An Event naming the subject's
 * name but another uid is about an earlier object of that name (deleted and created again): left out, as
 * `kubectl describe` does.
 */
function eventsPart(
  events: readonly KubeEvent[],
  subjects: readonly EventSubject[],
  eventsError: string | undefined,
  options: DescribeOptions,
): EventsPart {
  const uids = new Map(subjects.map((s) => [`${s.kind}/${s.metadata.name}`, s.metadata.uid]));
  const about = events
    .filter((e) => {
      const key = `${e.involvedObject.kind ?? ''}/${e.involvedObject.name ?? ''}`;
      if (!uids.has(key)) return false;
      const uid = uids.get(key);
      return uid === undefined || e.involvedObject.uid === undefined || e.involvedObject.uid === uid;
    })
    .map(eventView)
    .sort((a, b) => time(a.lastSeen) - time(b.lastSeen));
  const max = Math.max(0, options.maxEvents ?? DEFAULT_MAX_EVENTS);
  const kept = max === 0 ? [] : about.slice(-max);
  return {
    events: kept,
    eventsOmitted: about.length - kept.length,
    ...(eventsError === undefined ? {} : { eventsError }),
  };
}

function eventView(event: KubeEvent): EventView {
  const lastSeen =
    event.lastTimestamp ??
    event.series?.lastObservedTime ??
    event.eventTime ??
    event.firstTimestamp ??
    event.metadata.creationTimestamp ??
    undefined;
  return {
    object: `${event.involvedObject.kind ?? ''}/${event.involvedObject.name ?? ''}`,
    type: event.type ?? 'Normal',
    reason: event.reason ?? '',
    message: event.message ?? '',
    lastSeen,
    firstSeen: event.firstTimestamp ?? event.eventTime ?? lastSeen,
    count: event.series?.count ?? event.count ?? 1,
  };
}

/** Milliseconds since the epoch; an absent or unreadable time sorts first. */
function time(at: string | undefined): number {
  const ms = at === undefined ? NaN : Date.parse(at);
  return Number.isNaN(ms) ? -Infinity : ms;
}

// ---------------------------------------------------------------------------------------------------------------
// Text

export interface RenderOptions {
  /** Ages are counted back from here. */
  now: Date;
  /** ANSI colours (a terminal that is not NO_COLOR); alignment is the same either way. */
  colour: boolean;
}

type Paint = 'green' | 'red' | 'yellow' | 'bold' | undefined;
const ANSI: Record<Exclude<Paint, undefined>, string> = {
  green: '\x1b[32m',
  red: '\x1b[31m',
  yellow: '\x1b[33m',
  bold: '\x1b[1m',
};

/** A cell of text, with the colour it gets on a terminal. */
interface Cell {
  text: string;
  paint?: Paint;
}
type CellInput = Cell | string | number | undefined;

class Screen {
  private readonly lines: string[] = [];

  constructor(private readonly options: RenderOptions) {}

  paint(text: string, paint: Paint): string {
    return this.options.colour && paint !== undefined && text !== '' ? `${ANSI[paint]}${text}\x1b[0m` : text;
  }

  age(at: string | undefined): string {
    return ageOf(at, this.options.now);
  }

  blank(): void {
    if (this.lines.length > 0 && this.lines[this.lines.length - 1] !== '') this.lines.push('');
  }

  heading(text: string): void {
    this.blank();
    this.lines.push(this.paint(text, 'bold'));
  }

  /** `Label:   value` lines, values aligned; a field without a value is left out. */
  fields(fields: readonly [string, CellInput][]): void {
    const present = fields
      .map(([label, value]) => [label, cell(value)] as const)
      .filter(([, value]) => value.text !== '');
    const width = Math.max(0, ...present.map(([label]) => label.length + 1));
    for (const [label, value] of present) {
      this.lines.push(`${`${label}:`.padEnd(width)}  ${this.paint(value.text, value.paint)}`);
    }
  }

  /** A table under a heading, two spaces in, columns aligned on the text (colour codes take no width). */
  table(columns: readonly string[], rows: readonly (readonly CellInput[])[]): void {
    const cells = rows.map((row) => columns.map((_, i) => cell(row[i])));
    const widths = columns.map((title, i) =>
      Math.max(title.length, ...cells.map((row) => row[i]?.text.length ?? 0)),
    );
    const line = (row: readonly Cell[]) =>
      `  ${row
        .map((c, i) =>
          i === row.length - 1
            ? this.paint(c.text, c.paint)
            : this.paint(c.text, c.paint) + ' '.repeat((widths[i] ?? 0) - c.text.length),
        )
        .join('  ')}`.trimEnd();
    this.lines.push(line(columns.map((text) => ({ text }))));
    for (const row of cells) this.lines.push(line(row));
  }

  text(line: string): void {
    this.lines.push(line);
  }

  toString(): string {
    return this.lines.map((l) => `${l}\n`).join('');
  }
}

function cell(value: CellInput): Cell {
  if (value === undefined) return { text: '' };
  if (typeof value === 'object') return { ...value, text: oneLine(value.text) };
  return { text: oneLine(String(value)) };
}

/** Messages may hold newlines (a peer's error body): a table row stays one line. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}

const statusPaint = (status: string | undefined): Paint =>
  status === 'True' ? 'green' : status === 'False' ? 'red' : status === undefined ? undefined : 'yellow';

const GOOD_PHASES = new Set(['Established']);
const BAD_PHASES = new Set(['Rejected', 'PartiallyRejected', 'Expired', 'Failed']);
const phasePaint = (phase: string | undefined): Paint =>
  phase === undefined
    ? undefined
    : GOOD_PHASES.has(phase)
      ? 'green'
      : BAD_PHASES.has(phase)
        ? 'red'
        : 'yellow';

const GOOD_STATES = new Set(['established']);
const BAD_STATES = new Set(['rejected', 'unestablished', 'down']);
const statePaint = (state: string | undefined): Paint =>
  state === undefined
    ? undefined
    : GOOD_STATES.has(state)
      ? 'green'
      : BAD_STATES.has(state)
        ? 'red'
        : 'yellow';

/**
 * One screen about a request: header, conditions, rejected sessions, its sessions, the conditions of theirs
 * that are not True, and the last Events.
 */
export function renderRequestDescription(d: RequestDescription, options: RenderOptions): string {
  const screen = new Screen(options);
  const counts = d.sessionCounts;
  screen.fields([
    ['Name', d.name],
    ['Namespace', d.namespace],
    ['Direction', d.direction],
    ['Local ASN', d.localAsn],
    ['Peer ASN', d.peerAsn],
    ['Peer API', d.peerApiUrl],
    ['Phase', { text: d.phase ?? '(not reconciled yet)', paint: phasePaint(d.phase) }],
    ['Request ID', d.requestId],
    [
      'Sessions',
      counts &&
        [
          `${counts.accepted} accepted`,
          ...(counts.pending ? [`${counts.pending} pending`] : []),
          `${counts.rejected} rejected`,
          `${counts.established} established`,
        ].join(', '),
    ],
    ['Generation', generationCell(d.generation, d.observedGeneration)],
    ['Created', d.createdAt && `${screen.age(d.createdAt)} ago (${d.createdAt})`],
    ['Deleting', d.deletingSince && { text: `since ${screen.age(d.deletingSince)}`, paint: 'yellow' }],
  ]);

  conditionsSection(screen, d.conditions);

  if (d.rejected.length > 0) {
    screen.heading(`Rejected sessions (${d.rejected.length}):`);
    screen.table(
      ['LOCATION', 'LOCAL IP', 'PEER IP', 'FIELD', 'CODE', 'REASON', 'MESSAGE'],
      d.rejected.map((r) => [r.location, r.localIp, r.peerIp, r.field, r.code, r.reason, r.message]),
    );
  }

  screen.heading(d.sessions.length === 0 ? 'Sessions: <none>' : `Sessions (${d.sessions.length}):`);
  if (d.sessions.length > 0) {
    screen.table(
      ['NAME', 'LOCATION', 'LOCAL IP', 'PEER IP', 'STATE', 'BGP', 'ROUTER', 'READY', 'REASON'],
      d.sessions.map((s) => [
        s.deletingSince === undefined ? s.name : `${s.name} (deleting)`,
        s.location,
        s.localIp,
        s.peerIp,
        { text: s.state ?? '', paint: statePaint(s.state) },
        { text: s.bgpState ?? '', paint: s.bgpState === 'established' ? 'green' : undefined },
        s.router,
        { text: s.ready?.status ?? '', paint: statusPaint(s.ready?.status) },
        s.ready?.reason,
      ]),
    );
  }
  const notTrue = d.sessions.flatMap((s) => s.notTrue.map((c) => [s.name, c] as const));
  if (notTrue.length > 0) {
    screen.heading('Session conditions not True:');
    screen.table(
      ['SESSION', 'TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'],
      notTrue.map(([name, c]) => [
        name,
        c.type,
        { text: c.status, paint: statusPaint(c.status) },
        c.reason,
        screen.age(c.lastTransitionTime),
        c.message,
      ]),
    );
  }

  eventsSection(screen, d);
  return screen.toString();
}

/** One screen about a session: its terms, state, BGP, router, conditions and last Events. */
export function renderSessionDescription(d: SessionDescription, options: RenderOptions): string {
  const screen = new Screen(options);
  const bgp = d.bgp;
  const report = d.routerReport;
  screen.fields([
    ['Name', d.name],
    ['Namespace', d.namespace],
    ['Request', d.request],
    ['Direction', d.direction],
    ['Session ID', d.sessionId],
    ['Request ID', d.requestId],
    ['Location', `${d.location.id} (${d.location.type})`],
    ['Local', `AS${d.localAsn} ${d.localIp}`],
    ['Peer', `AS${d.peerAsn} ${d.peerIp}`],
    ['Peer API', d.peerApiUrl],
    [
      'State',
      {
        text:
          d.state === undefined
            ? '(not reconciled yet)'
            : `${d.state}${d.stateReason ? `: ${d.stateReason}` : ''}`,
        paint: statePaint(d.state),
      },
    ],
    ['Accepted', d.acceptedAt && `${screen.age(d.acceptedAt)} ago`],
    [
      'BGP',
      bgp && {
        text: [
          bgp.state,
          bgp.since && `since ${screen.age(bgp.since)}`,
          bgp.prefixesReceived !== undefined && `${bgp.prefixesReceived} prefixes received`,
          bgp.prefixesSent !== undefined && `${bgp.prefixesSent} sent`,
          bgp.lastError && `last error: ${bgp.lastError}`,
        ]
          .filter(Boolean)
          .join(', '),
        paint: bgp.state === 'established' ? 'green' : undefined,
      },
    ],
    [
      'Router',
      d.router &&
        [d.router.name, d.router.maxPrefixes !== undefined && `max prefixes ${d.router.maxPrefixes}`]
          .filter(Boolean)
          .join(', '),
    ],
    [
      'Router report',
      report && {
        text: [
          `${report.configured ? 'configured' : 'not configured'} by ${report.router}`,
          report.reason && `${report.reason}${report.message ? `: ${report.message}` : ''}`,
          `generation ${report.observedGeneration}`,
          `${screen.age(report.observedTime)} ago`,
        ]
          .filter(Boolean)
          .join(', '),
        paint: report.configured ? undefined : 'red',
      },
    ],
    [
      'Last sync',
      d.lastSyncTime &&
        `${screen.age(d.lastSyncTime)} ago${d.syncFailures ? ` (${d.syncFailures} failed since)` : ''}`,
    ],
    ['Generation', generationCell(d.generation, d.observedGeneration)],
    ['Created', d.createdAt && `${screen.age(d.createdAt)} ago (${d.createdAt})`],
    ['Deleting', d.deletingSince && { text: `since ${screen.age(d.deletingSince)}`, paint: 'yellow' }],
  ]);
  conditionsSection(screen, d.conditions);
  eventsSection(screen, d);
  return screen.toString();
}

function generationCell(generation: number | undefined, observed: number | undefined): Cell | undefined {
  if (generation === undefined) return undefined;
  if (observed === undefined) return { text: `${generation}, not observed yet`, paint: 'yellow' };
  if (observed < generation) {
    return { text: `${generation}, observed ${observed} (the operator has not caught up)`, paint: 'yellow' };
  }
  return { text: `${generation}, observed ${observed}` };
}

function conditionsSection(screen: Screen, conditions: readonly ConditionView[]): void {
  screen.heading(conditions.length === 0 ? 'Conditions: <none>' : 'Conditions:');
  if (conditions.length === 0) return;
  screen.table(
    ['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'],
    conditions.map((c) => [
      c.type,
      { text: c.status, paint: statusPaint(c.status) },
      c.reason,
      screen.age(c.lastTransitionTime),
      c.message,
    ]),
  );
}

function eventsSection(screen: Screen, d: EventsPart): void {
  if (d.eventsError !== undefined) {
    screen.heading('Events: (not readable)');
    screen.text(`  ${oneLine(d.eventsError)}`);
    return;
  }
  if (d.events.length === 0) {
    screen.heading('Events: <none>');
    return;
  }
  screen.heading(
    d.eventsOmitted > 0
      ? `Events (last ${d.events.length} of ${d.events.length + d.eventsOmitted}):`
      : 'Events:',
  );
  screen.table(
    ['AGE', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    d.events.map((e) => [
      e.count > 1
        ? `${screen.age(e.lastSeen)} (x${e.count} over ${screen.age(e.firstSeen)})`
        : screen.age(e.lastSeen),
      { text: e.type, paint: e.type === 'Normal' ? undefined : 'yellow' },
      e.reason,
      e.object,
      e.message,
    ]),
  );
}

/**
 * How long ago `at` was, the way kubectl prints ages (`45s`, `5m30s`, `3h`, `2d4h`); `<unknown>` when there is
 * no time, `0s` for a time ahead of `now` (clock skew).
 *
 * @example
 * ageOf('2025-01-01T00:00:00Z', new Date('2025-01-01T00:05:30Z')); // '5m30s'
 */
export function ageOf(at: string | undefined, now: Date): string {
  if (at === undefined) return '<unknown>';
  const then = Date.parse(at);
  if (Number.isNaN(then)) return '<unknown>';
  return humanDuration(Math.max(0, now.getTime() - then));
}

/** Kubernetes' `duration.HumanDuration`: two units while they matter, one when the second would be noise. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  const years = Math.floor(days / 365);
  const two = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${small}${smallUnit}`;
  if (seconds < 120) return `${seconds}s`;
  if (minutes < 10) return two(minutes, 'm', seconds % 60, 's');
  if (minutes < 180) return `${minutes}m`;
  if (hours < 8) return two(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return two(days, 'd', hours % 24, 'h');
  if (days < 365 * 2) return `${days}d`;
  if (days < 365 * 8) return two(years, 'y', days % 365, 'd');
  return `${years}y`;
}
