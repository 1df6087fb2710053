import { Option, type Command } from 'commander';
import type { AddressFamily } from '../../domain/ip.js';
import {
  discoverSessions,
  type Discovery,
  type OfferedLocation,
  type SkipReason,
} from '../../discovery/common-locations.js';
import { globalsOf, openClient, openPeeringDb, parse, type GlobalOptions } from './context.js';
import { UsageError } from './exit-codes.js';
import { print, renderTable } from './output.js';
import { peeringRequestYaml } from './peering-request-file.js';
import { MAX_SESSIONS_PER_REQUEST } from '../../domain/session.js';

export interface DiscoverFlags {
  localAsn: number;
  peerAsn: number;
  peeringdbDir?: string;
  peeringdbUrl?: string;
  location?: string[];
  family?: AddressFamily;
  /** Several families at once (from a PeeringRequest file); `family` wins when both are given. */
  families?: readonly AddressFamily[];
  peerLocations?: boolean;
  checkPrefixes?: boolean;
}

/** Options shared by `discover` and `request -f` (when sessions are to be discovered). */
export function peeringDbOptions(command: Command): Command {
  return command
    .option(
      '--peeringdb-dir <dir>',
      'a folder of PeeringDB API dumps (env PEERINGDB_DIR); default: the live API',
    )
    .option(
      '--peeringdb-url <url>',
      'the live PeeringDB API (env PEERINGDB_URL; PEERINGDB_API_KEY is sent if set)',
    );
}

/** Runs discovery; `offered` comes from the peer's `GET /locations` when asked for. */
export async function discover(
  flags: DiscoverFlags,
  globals: GlobalOptions,
  apiUrl?: string,
): Promise<Discovery> {
  const peeringDb = await openPeeringDb(flags);
  let offered: OfferedLocation[] | undefined;
  if (flags.peerLocations) {
    const client = await openClient(globals, [flags.localAsn], apiUrl);
    try {
      offered = [];
      for await (const location of client.listLocations({ asn: flags.peerAsn, locationType: 'public' })) {
        offered.push({ id: location.id, localIps: location.localIps });
      }
    } finally {
      await client.close();
    }
  }
  return discoverSessions(peeringDb, {
    localAsn: flags.localAsn,
    peerAsn: flags.peerAsn,
    only: flags.location,
    families: flags.family === undefined ? flags.families : [flags.family],
    offered,
    checkPrefixes: flags.checkPrefixes,
  });
}

/** `peeringctl discover`: the sessions PeeringDB implies between you and the peer. */
export function registerDiscover(program: Command): void {
  const command = program
    .command('discover')
    .description(
      'List the sessions PeeringDB implies between your network and the peer, and why exchanges are left out',
    )
    .requiredOption('--local-asn <asn>', 'your network', parse.asn)
    .requiredOption('--peer-asn <asn>', 'the remote network', parse.asn)
    .option('--location <pdb:ix:ID>', 'only this exchange (repeatable)', parse.exchange)
    .addOption(new Option('--family <family>', 'only this address family').choices(['ipv4', 'ipv6']))
    .option('--peer-locations', "narrow to what the peer's GET /locations offers (needs --api-url)")
    .option(
      '--check-prefixes',
      "check addresses against each exchange's peering LAN (one PeeringDB call per exchange)",
    )
    .option('--show-skipped', 'also list every exchange left out, with the reason (always in json/yaml)')
    .option('--as-request <name>', 'print a PeeringRequest YAML for `peeringctl request -f` instead');
  peeringDbOptions(command)
    .addHelpText(
      'after',
      `
Pairing rule: at each exchange where both networks have operational ports, every address of yours is paired
with every address of the peer's in the same family (full mesh: each router with each router).

Examples:
  peeringctl discover --local-asn 13335 --peer-asn 15169 --peeringdb-dir ./peeringdb
  peeringctl discover --local-asn 64501 --peer-asn 64500 --location pdb:ix:26 --family ipv6 -o json
  peeringctl discover --local-asn 64501 --peer-asn 64500 --peer-locations --api-url https://peering.example.net/v0.1
  peeringctl discover --local-asn 64501 --peer-asn 64500 --as-request as64500 > request.yaml`,
    )
    .action(async (flags: DiscoverFlags & { showSkipped?: boolean; asRequest?: string }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const found = await discover(flags, globals);
      if (flags.asRequest !== undefined) {
        if (found.sessions.length > MAX_SESSIONS_PER_REQUEST) {
          throw new UsageError(
            `${found.sessions.length} sessions are more than one PeeringRequest holds (${MAX_SESSIONS_PER_REQUEST}); narrow with --location or --family`,
          );
        }
        const apiUrl = globals.apiUrl ?? process.env.PEERING_API_URL;
        process.stdout.write(peeringRequestYaml({ name: flags.asRequest, ...flags, apiUrl }, found.sessions));
        return;
      }
      const data = {
        local_asn: flags.localAsn,
        peer_asn: flags.peerAsn,
        sessions: found.sessions.map((s) => ({
          location: s.location,
          name: s.name,
          family: s.family,
          local_asn: s.localAsn,
          local_ip: s.localIp,
          peer_asn: s.peerAsn,
          peer_ip: s.peerIp,
        })),
        locations: found.locations.map((l) => ({ id: l.location.id, name: l.name, sessions: l.sessions })),
        skipped: found.skipped.map((s) => ({
          location: s.location,
          name: s.name,
          family: s.family,
          reason: s.reason,
          message: s.message,
        })),
      };
      print(globals.output, data, () => ({
        columns: ['LOCATION', 'NAME', 'FAMILY', 'LOCAL IP', 'PEER IP'],
        rows: found.sessions.map((s) => [s.location.id, s.name, s.family, s.localIp, s.peerIp]),
      }));
      if (globals.output === 'table') {
        if (flags.showSkipped && found.skipped.length > 0) {
          process.stdout.write(
            `\n${renderTable({
              columns: ['LEFT OUT', 'NAME', 'FAMILY', 'REASON', 'WHY'],
              rows: found.skipped.map((s) => [s.location.id, s.name, s.family ?? 'all', s.reason, s.message]),
            })}`,
          );
        }
        process.stderr.write(`${summary(found, flags.showSkipped === true)}\n`);
      }
    });
}

function summary(found: Discovery, shown: boolean): string {
  const counts = new Map<SkipReason, number>();
  for (const s of found.skipped) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
  const reasons = [...counts].map(([reason, n]) => `${reason}: ${n}`).join(', ');
  return (
    `${found.sessions.length} sessions at ${found.locations.length} exchanges` +
    (found.skipped.length === 0
      ? ''
      : `; ${found.skipped.length} left out (${reasons})${shown ? '' : '; --show-skipped says why'}`)
  );
}
