import { BGP_ROLE_NAMES, addressFamily } from '../../domain/session.js';
import type { BgpTimers, DesiredSession } from '../driver.js';
import { protocolName } from './names.js';

/** First line of every session's block; the key after it is how the driver reads its files back. */
export const FILE_HEADER = '# peering-operator session ';

export interface RenderOptions {
  /**
   * Bind the listening socket to the session's local address (`strict bind`). Needed to run several BIRDs on
   * one host; BIRD wants every BGP protocol on one port to agree on it, so it is a router-wide choice.
   */
  strictBind: boolean;
}

/**
 * The BIRD 2 configuration of one session: its `protocol bgp` block, under a comment line with its key.
 *
 * The session must have passed {@link DesiredSessionSchema} (the driver validates first): that is what makes
 * rendering safe. Numbers are integers, addresses canonical, filter names identifiers, and the only free text
 * (key, name, secret) is printable ASCII without `"` and `\`, which BIRD 2 strings cannot escape, so nothing can
 * leave its string or statement. Default policy is `import none; export none;`: a session never leaks or accepts
 * routes unless the operator names a filter.
 *
 * @example
 * renderSession({ key, localAsn: 64500, localIp: '192.0.2.1', peerAsn: 64501, peerIp: '192.0.2.2' }, { strictBind: true });
 * // # peering-operator session 64501|pdb:ix:26|192.0.2.1|192.0.2.2
 * // protocol bgp po_AS64501_ix26_… { … ipv4 { import none; export none; }; }
 */
export function renderSession(session: DesiredSession, options: RenderOptions): string {
  const family = addressFamily(session.localIp);
  const description = session.name === undefined ? session.key : `${session.key} ${session.name}`;
  const lines: string[] = [
    `${FILE_HEADER}${sessionKey(session.key)}`,
    '# Written by the peering-operator BIRD driver; edits here are overwritten.',
    `protocol bgp ${protocolName(session.key)} {`,
    `  description ${quoted(description)};`,
    `  local ${address(session.sourceAddress ?? session.localIp)}${port(session.localPort)} as ${int(session.localAsn)};`,
    `  neighbor ${address(session.peerIp)}${port(session.peerPort)} as ${int(session.peerAsn)};`,
  ];
  if (options.strictBind) lines.push('  strict bind on;');
  if (session.multihop !== undefined) lines.push(`  multihop ${int(session.multihop)};`);
  if (session.passive === true) lines.push('  passive on;');
  if (session.secret !== undefined) lines.push(`  password ${quoted(session.secret)};`);
  if (session.localRole !== undefined) {
    lines.push(`  local role ${BGP_ROLE_NAMES[session.localRole]};`);
    if (session.requireRoles === true) lines.push('  require roles on;');
  }
  lines.push(...renderTimers(session.timers ?? {}));
  lines.push(`  ${family} {`);
  lines.push(
    session.importFilter === undefined
      ? '    import none;'
      : `    import filter ${identifier(session.importFilter)};`,
  );
  lines.push(
    session.exportFilter === undefined
      ? '    export none;'
      : `    export filter ${identifier(session.exportFilter)};`,
  );
  if (session.maxPrefixes !== undefined) {
    // `import limit` counts routes accepted by the import filter, which is what a max-prefix agreement means;
    // `restart` tears the session down and lets it retry after the error wait time, as routers usually do.
    lines.push(`    import limit ${int(session.maxPrefixes)} action restart;`);
  }
  lines.push('  };', '}', '');
  return lines.join('\n');
}

function renderTimers(timers: BgpTimers): string[] {
  const lines: string[] = [];
  if (timers.hold !== undefined) lines.push(`  hold time ${int(timers.hold)};`);
  if (timers.keepalive !== undefined) lines.push(`  keepalive time ${int(timers.keepalive)};`);
  if (timers.connectRetry !== undefined) lines.push(`  connect retry time ${int(timers.connectRetry)};`);
  if (timers.connectDelay !== undefined) lines.push(`  connect delay time ${int(timers.connectDelay)};`);
  if (timers.errorWaitMin !== undefined || timers.errorWaitMax !== undefined) {
    // BIRD wants both bounds; one given alone stands for both, clamped so that min <= max holds.
    const min = timers.errorWaitMin ?? Math.min(timers.errorWaitMax ?? 60, 60);
    const max = timers.errorWaitMax ?? Math.max(min, 300);
    lines.push(`  error wait time ${int(min)}, ${int(max)};`);
  }
  return lines;
}

function port(value: number | undefined): string {
  return value === undefined ? '' : ` port ${int(value)}`;
}

/** Integers only: a non-integer here means validation was skipped, and rendering must not go on. */
function int(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a non-negative integer: ${value}`);
  return String(value);
}

// The guards below repeat the schema's rules at the point of output: rendering must stay safe even for a caller
// that skipped validation, so they throw instead of writing something BIRD would read differently.

function address(value: string): string {
  if (!/^[0-9a-f.:]{2,39}$/.test(value))
    throw new RangeError(`not a canonical IP address: ${JSON.stringify(value)}`);
  return value;
}

function sessionKey(value: string): string {
  // The key heads its block on a comment line: a line break or space in it would break the file apart.
  if (!/^[A-Za-z0-9|:._-]{1,200}$/.test(value))
    throw new RangeError(`not a session key: ${JSON.stringify(value)}`);
  return value;
}

function identifier(value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(value))
    throw new RangeError(`not an identifier: ${JSON.stringify(value)}`);
  return value;
}

/** A BIRD string literal. BIRD 2 strings have no escapes; text with `"`, `\` or control characters is refused. */
export function quoted(text: string): string {
  if (!/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/.test(text)) {
    throw new RangeError('text for a BIRD string must be printable ASCII without " or \\');
  }
  return `"${text}"`;
}
