import type { ReplyLine } from './control-socket.js';

/** Reply codes of `show protocols`: the column header, a protocol's summary line, its details. */
const CODE_HEADER = 2002;
const CODE_SUMMARY = 1002;
const CODE_DETAILS = 1006;

/** One channel (address family) of a protocol, from `show protocols all`. */
export interface BirdChannelStatus {
  name: string;
  /** `UP`, `DOWN`, … as BIRD prints it. */
  state?: string | undefined;
  routes: { imported: number; filtered: number; exported: number; preferred: number };
  importLimit?: number | undefined;
}

/** One protocol of `show protocols [all]`, as BIRD printed it; fields absent from the output stay undefined. */
export interface BirdProtocolStatus {
  name: string;
  /** `BGP`, `Static`, `Device`, … */
  proto: string;
  /** BIRD's protocol state: `up`, `start`, `stop`, `down`, `flush`. */
  state: string;
  /** The Since column as printed, and as a date when its format is one we read (see {@link parseBirdTime}). */
  sinceText: string;
  since?: Date | undefined;
  /** The Info column: for BGP the FSM state and, when there is one, the last error. */
  info: string;
  description?: string | undefined;
  /** `Established`, `Active`, `Idle`, `Down`, … from `BGP state:`. */
  bgpState?: string | undefined;
  neighborAddress?: string | undefined;
  neighborAs?: number | undefined;
  localAs?: number | undefined;
  lastError?: string | undefined;
  channels: BirdChannelStatus[];
}

const HEADER = /^Name\s+Proto\s+Table\s+State\s+Since\s+Info\s*$/;
const BANNER = /^BIRD .* ready\.$/;
const SUMMARY = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(.*))?$/;
const SINCE =
  /^(\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?|\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?|\d{9,})(?:\s+|$)/;

/**
 * Reads the output of `show protocols` or `show protocols all`, as the control socket delivers it (reply lines
 * with their codes) or as `birdc` prints it (plain text lines).
 *
 * Structure comes from layout, which BIRD 2 has kept stable: a protocol starts on an unindented line (Name,
 * Proto, Table, State, Since, Info), its details follow indented as `Label: value`, channels as `Channel ipv4`
 * with their own indented lines. Lines it does not know are skipped, so new fields in later BIRD versions do not
 * break it; names longer than their column (which shift the columns) are read by whitespace, not by position.
 *
 * @param now the reference for times of day without a date (BIRD prints `12:07:36.246` for recent changes in its
 *   default format): the most recent such moment not after `now`.
 * @example
 * const protocols = parseShowProtocols((await bird.command('show protocols all "po_*"')).lines);
 */
export function parseShowProtocols(
  lines: readonly (string | ReplyLine)[],
  now: Date = new Date(),
): BirdProtocolStatus[] {
  const protocols: BirdProtocolStatus[] = [];
  let current: BirdProtocolStatus | undefined;
  let channel: BirdChannelStatus | undefined;
  for (const entry of lines) {
    const line = typeof entry === 'string' ? entry : entry.text;
    const code = typeof entry === 'string' ? undefined : entry.code;
    if (line.trim() === '' || code === CODE_HEADER || HEADER.test(line) || BANNER.test(line)) continue;
    // With reply codes, the code decides: text inside a protocol's details (which can carry a message the peer
    // sent) can never pass for a protocol of its own, however it is laid out.
    const startsProtocol = code === undefined ? !/^\s/.test(line) : code === CODE_SUMMARY;
    if (startsProtocol) {
      const summary = SUMMARY.exec(line);
      if (!summary) {
        current = undefined;
        continue;
      }
      const rest = summary[5] ?? '';
      const since = SINCE.exec(rest);
      const sinceText = since ? (since[1] ?? '') : (rest.split(/\s+/)[0] ?? '');
      current = {
        name: summary[1] ?? '',
        proto: summary[2] ?? '',
        state: summary[4] ?? '',
        sinceText,
        since: parseBirdTime(sinceText, now),
        info: rest.slice(since ? since[0].length : sinceText.length).trim(),
        channels: [],
      };
      channel = undefined;
      protocols.push(current);
      continue;
    }
    if (!current || (code !== undefined && code !== CODE_DETAILS)) continue;
    const channelStart = /^\s*Channel\s+(\S+)\s*$/.exec(line);
    if (channelStart) {
      channel = {
        name: channelStart[1] ?? '',
        routes: { imported: 0, filtered: 0, exported: 0, preferred: 0 },
      };
      current.channels.push(channel);
      continue;
    }
    const field = /^\s*([A-Za-z][A-Za-z0-9 ./-]*?):\s*(.*?)\s*$/.exec(line);
    if (!field) continue;
    const label = field[1] ?? '';
    const value = field[2] ?? '';
    if (channel) {
      if (label === 'State') channel.state = value;
      else if (label === 'Routes') channel.routes = parseRoutes(value);
      else if (label === 'Import limit') channel.importLimit = integer(value);
      continue;
    }
    switch (label) {
      case 'Description':
        current.description = value;
        break;
      case 'BGP state':
        current.bgpState = value;
        break;
      case 'Neighbor address':
        current.neighborAddress = value;
        break;
      case 'Neighbor AS':
        current.neighborAs = integer(value);
        break;
      case 'Local AS':
        current.localAs = integer(value);
        break;
      case 'Last error':
        current.lastError = value;
        break;
    }
  }
  return protocols;
}

/** `3 imported, 1 filtered, 1 exported, 3 preferred` (filtered only with `import keep filtered`). */
function parseRoutes(value: string): BirdChannelStatus['routes'] {
  const routes = { imported: 0, filtered: 0, exported: 0, preferred: 0 };
  for (const match of value.matchAll(/(\d+)\s+(imported|filtered|exported|preferred)/g)) {
    routes[match[2] as keyof typeof routes] = Number(match[1]);
  }
  return routes;
}

function integer(value: string): number | undefined {
  const match = /^(\d+)/.exec(value);
  return match ? Number(match[1]) : undefined;
}

/**
 * A BIRD time as printed in local time by its `timeformat` settings: `iso long` (`2026-11-27 12:07:36`, with
 * optional fraction), `iso short` or the default recent form (`12:07:36.246`, today or, if that is later than
 * `now`, yesterday), a date alone (`2026-11-27`, the default for old events), or seconds since the epoch.
 * Anything else is `undefined`: the caller keeps the text.
 */
export function parseBirdTime(text: string, now: Date): Date | undefined {
  const date = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$/.exec(text);
  if (date) {
    const [, y, mo, d, h = '0', mi = '0', s = '0', f = '0'] = date;
    return new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), fraction(f));
  }
  const time = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/.exec(text);
  if (time) {
    const [, h, mi, s = '0', f = '0'] = time;
    const today = new Date(
      now.getFullYear(),
      now.getMonth(),
      now.getDate(),
      Number(h),
      Number(mi),
      Number(s),
      fraction(f),
    );
    // A minute of slack for clocks read a moment apart; beyond that, a time later than now was yesterday.
    if (today.getTime() > now.getTime() + 60_000) today.setDate(today.getDate() - 1);
    return today;
  }
  if (/^\d{9,}$/.test(text)) return new Date(Number(text) * 1000);
  return undefined;
}

function fraction(digits: string): number {
  return Math.floor(Number(`0.${digits}`) * 1000);
}
