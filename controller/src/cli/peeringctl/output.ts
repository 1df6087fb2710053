import { stringify } from 'yaml';
import type { RemoteFieldError } from '../../client/errors.js';
import type { RemoteLocation, RemoteSession } from '../../client/answers.js';
import { wireSession, type WireSession } from '../../domain/session-wire.js';

export type OutputFormat = 'table' | 'json' | 'yaml';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml'];

/** A table: column titles and rows of cells, printed with aligned columns. */
export interface Table {
  columns: string[];
  rows: (string | number | undefined)[][];
}

/** Writes `data` as JSON or YAML, or `table` aligned for people, to stdout. */
export function print(format: OutputFormat, data: unknown, table: () => Table): void {
  if (format === 'json') process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else if (format === 'yaml') process.stdout.write(stringify(data));
  else process.stdout.write(renderTable(table()));
}

export function renderTable(table: Table): string {
  const cells = [
    table.columns,
    ...table.rows.map((row) => row.map((c) => (c === undefined ? '' : String(c)))),
  ];
  const widths = table.columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : (cell ?? '').padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * A session as peeringctl prints it in JSON and YAML: snake_case like the API, but from YOUR view, like the
 * flags: `local_*` is your network, `peer_*` the remote one (the wire reading is the other way round).
 */
export type SessionView = Omit<WireSession, 'status'> & { status: string };

export function sessionView(session: RemoteSession): SessionView {
  return wireSession(session, 'local', session.sessionId, session.status);
}

export function sessionTable(sessions: readonly RemoteSession[]): Table {
  return {
    columns: ['SESSION ID', 'LOCATION', 'LOCAL ASN', 'LOCAL IP', 'PEER ASN', 'PEER IP', 'STATUS'],
    rows: sessions.map((s) => [
      s.sessionId,
      s.location.id,
      s.localAsn,
      s.localIp,
      s.peerAsn,
      s.peerIp,
      s.status,
    ]),
  };
}

/** A rejection as printed: the field named from your view (`sessions[0].local_ip` = your address). */
export interface ErrorView {
  name: string;
  field: string;
  code?: string | undefined;
  errors: string[];
}

export function errorView(error: RemoteFieldError): ErrorView {
  return { name: error.name, field: error.field, code: error.code, errors: error.errors };
}

export function errorLines(errors: readonly RemoteFieldError[]): string {
  return errors.map((e) => `  ${e.field}${e.code ? ` [${e.code}]` : ''}: ${e.errors.join('; ')}\n`).join('');
}

/** A location as printed: the remote's `local_ips` are, from your view, the peer's addresses. */
export interface LocationView {
  id: string;
  type: string;
  name?: string | undefined;
  peer_asn?: number | undefined;
  peer_ips?: string[] | undefined;
}

export function locationView(location: RemoteLocation): LocationView {
  return {
    id: location.id,
    type: location.type,
    name: location.name,
    peer_asn: location.asn,
    peer_ips: location.localIps,
  };
}
