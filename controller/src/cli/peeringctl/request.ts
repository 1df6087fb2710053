import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { RequestSessionsResult } from '../../client/client.js';
import type { SessionTermsInput } from '../../domain/session.js';
import type { RemoteFieldError } from '../../client/errors.js';
import type { BgpRole } from '../../domain/session.js';
import { ClientRequestIdSchema, MAX_SESSIONS_PER_REQUEST } from '../../domain/session.js';
import { globalsOf, openClient, parse, sessionKeyOptions } from './context.js';
import { discover, peeringDbOptions } from './discover.js';
import { EXIT, UsageError } from './exit-codes.js';
import { errorLines, errorView, print, sessionTable, sessionView } from './output.js';
import { readPeeringRequestFile } from './peering-request-file.js';

interface RequestFlags {
  file?: string;
  localAsn?: number;
  peerAsn?: number;
  location?: string;
  localIp?: string;
  peerIp?: string;
  localBgpRole?: number;
  peerBgpRole?: number;
  requestId?: string;
  secretEnv?: string;
  returnUrl?: string;
  peeringdbDir?: string;
  peeringdbUrl?: string;
}

const SESSION_FLAGS = ['localAsn', 'peerAsn', 'location', 'localIp', 'peerIp'] as const;
const FLAG_NAMES: Record<(typeof SESSION_FLAGS)[number], string> = {
  localAsn: '--local-asn',
  peerAsn: '--peer-asn',
  location: '--location',
  localIp: '--local-ip',
  peerIp: '--peer-ip',
};

/** `peeringctl request`: asks the remote network for sessions (`POST /sessions`). */
export function registerRequest(program: Command): void {
  const command = program
    .command('request')
    .description(
      'Request BGP sessions from the remote network (POST /sessions), from flags or a PeeringRequest file',
    )
    .option('-f, --file <file>', 'a PeeringRequest YAML file ("-" for standard input)');
  sessionKeyOptions(command)
    .option('--local-bgp-role <role>', 'your RFC 9234 role (0-4); give both roles or neither', parse.role)
    .option('--peer-bgp-role <role>', "the peer's RFC 9234 role (0-4)", parse.role)
    .option(
      '--request-id <id>',
      'client request_id: repeating the command with it returns the same answer (default: new)',
    )
    .option('--secret-env <var>', 'environment variable holding the session secret (MD5/TCP-AO)')
    .option('--return-url <url>', 'your own Peering API, for counter-requests');
  peeringDbOptions(command)
    .addHelpText(
      'after',
      `
Repeating a request is safe: a session whose natural key (peer ASN, location, both addresses) exists is
returned as it is, with the same session_id. JSON output: {request_id, client_request_id, sessions, errors},
sessions from your view (local_* = your network). Exit 0 when every session was accepted, 4 when any was not.
A file with "locations" (or neither sessions nor locations) is filled in by discovery from PeeringDB, narrowed
to what the peer's GET /locations offers; more than ${MAX_SESSIONS_PER_REQUEST} sessions go out as several requests.

Examples:
  peeringctl request --api-url https://peering.example.net/v0.1 --token "$TOKEN" \\
    --local-asn 64501 --peer-asn 64500 --location pdb:ix:1 --local-ip 192.0.2.2 --peer-ip 192.0.2.1
  MD5=s3cret peeringctl request --local-asn 64501 --peer-asn 64500 --location pdb:ix:1 \\
    --local-ip 192.0.2.2 --peer-ip 192.0.2.1 --secret-env MD5 --request-id change-4711 -o json
  peeringctl request -f peeringrequest.yaml --peeringdb-dir ./peeringdb`,
    )
    .action(async (flags: RequestFlags, cmd: Command) => {
      const globals = globalsOf(cmd);
      if (flags.requestId !== undefined && !ClientRequestIdSchema.safeParse(flags.requestId).success) {
        throw new UsageError('--request-id must be 1-128 characters of A-Z a-z 0-9 . _ ~ : -');
      }
      let secret: string | undefined;
      if (flags.secretEnv !== undefined) {
        secret = process.env[flags.secretEnv];
        if (!secret) throw new UsageError(`--secret-env: environment variable ${flags.secretEnv} is not set`);
      }
      const { proposals, apiUrl, localAsn } = await proposalsOf(flags, globals, secret);
      const client = await openClient(globals, [localAsn], apiUrl);
      try {
        const base = flags.requestId ?? randomUUID();
        const answers: RequestSessionsResult[] = [];
        const errors: RemoteFieldError[] = [];
        for (
          let start = 0, chunk = 0;
          start < proposals.length;
          start += MAX_SESSIONS_PER_REQUEST, chunk += 1
        ) {
          const part = proposals.slice(start, start + MAX_SESSIONS_PER_REQUEST);
          const requestId = proposals.length > MAX_SESSIONS_PER_REQUEST ? `${base}:${chunk + 1}` : base;
          const answer = await client.requestSessions(part, { requestId, returnUrl: flags.returnUrl });
          answers.push(answer);
          errors.push(...answer.errors.map((e) => reindex(e, start)));
        }
        const sessions = answers.flatMap((a) => a.sessions);
        const data: Record<string, unknown> = {
          request_id: answers[0]?.requestId,
          client_request_id: answers[0]?.clientRequestId,
          sessions: sessions.map(sessionView),
          errors: errors.map(errorView),
        };
        if (answers.length > 1) {
          data.requests = answers.map((a) => ({
            request_id: a.requestId,
            client_request_id: a.clientRequestId,
          }));
        }
        print(globals.output, data, () => sessionTable(sessions));
        if (globals.output === 'table') {
          process.stderr.write(
            `request ${answers.map((a) => a.requestId ?? a.clientRequestId).join(', ')}: ` +
              `${sessions.length} accepted, ${proposals.length - sessions.length} not accepted\n`,
          );
        }
        if (errors.length > 0) {
          process.stderr.write(`rejections (fields from your view):\n${errorLines(errors)}`);
          process.exitCode = EXIT.refused;
        }
      } finally {
        await client.close();
      }
    });
}

/** The sessions to ask for: from the flags, from a file's sessions, or discovered for a file's locations. */
async function proposalsOf(
  flags: RequestFlags,
  globals: ReturnType<typeof globalsOf>,
  secret: string | undefined,
): Promise<{ proposals: SessionTermsInput[]; apiUrl?: string | undefined; localAsn: number }> {
  const given = SESSION_FLAGS.filter((f) => flags[f] !== undefined);
  if (flags.file !== undefined) {
    if (given.length > 0) {
      throw new UsageError(`give either -f or ${given.map((f) => FLAG_NAMES[f]).join(', ')}, not both`);
    }
    const file = await readPeeringRequestFile(flags.file);
    const roles = {
      localBgpRole: file.localBgpRole as BgpRole | undefined,
      peerBgpRole: file.peerBgpRole as BgpRole | undefined,
    };
    const apiUrl = globals.apiUrl ?? file.apiUrl;
    if (file.sessions !== undefined) {
      return {
        apiUrl,
        localAsn: file.localAsn,
        proposals: file.sessions.map((s) => ({
          localAsn: file.localAsn,
          peerAsn: file.peerAsn,
          location: s.location,
          localIp: s.localIp,
          peerIp: s.peerIp,
          peerType: s.peerType,
          localBgpRole: s.localBgpRole ?? roles.localBgpRole,
          peerBgpRole: s.peerBgpRole ?? roles.peerBgpRole,
          localInsertAsn: s.localInsertAsn,
          peerInsertAsn: s.peerInsertAsn,
          localMonitoringSession: s.localMonitoringSession,
          peerMonitoringSession: s.peerMonitoringSession,
          sessionSecret: secret,
        })),
      };
    }
    const { sessions: found } = await discover(
      {
        localAsn: file.localAsn,
        peerAsn: file.peerAsn,
        location: file.locations,
        families: file.addressFamilies,
        peerLocations: true,
        peeringdbDir: flags.peeringdbDir,
        peeringdbUrl: flags.peeringdbUrl,
      },
      globals,
      apiUrl,
    );
    if (found.length === 0) {
      throw new UsageError(
        `PeeringDB implies no session between AS${file.localAsn} and AS${file.peerAsn} at the locations asked for; ` +
          'see peeringctl discover --show-skipped',
      );
    }
    return {
      apiUrl,
      localAsn: file.localAsn,
      proposals: found.map((s) => ({ ...s, ...roles, sessionSecret: secret })),
    };
  }
  const missing = SESSION_FLAGS.filter((f) => flags[f] === undefined);
  if (missing.length > 0) {
    throw new UsageError(
      `missing ${missing.map((f) => FLAG_NAMES[f]).join(', ')} (or give a PeeringRequest file with -f)`,
    );
  }
  if ((flags.localBgpRole === undefined) !== (flags.peerBgpRole === undefined)) {
    throw new UsageError('give both --local-bgp-role and --peer-bgp-role, or neither');
  }
  return {
    localAsn: flags.localAsn!,
    proposals: [
      {
        localAsn: flags.localAsn!,
        peerAsn: flags.peerAsn!,
        location: flags.location!,
        localIp: flags.localIp!,
        peerIp: flags.peerIp!,
        localBgpRole: flags.localBgpRole as BgpRole | undefined,
        peerBgpRole: flags.peerBgpRole as BgpRole | undefined,
        sessionSecret: secret,
      },
    ],
  };
}

/** `sessions[3]` of the second request of 100 is `sessions[103]` of the whole. */
function reindex(error: RemoteFieldError, offset: number): RemoteFieldError {
  if (offset === 0) return error;
  const shift = (name: string) =>
    name.replace(/^sessions\[(\d+)\]/, (_m, i: string) => `sessions[${Number(i) + offset}]`);
  return { ...error, name: shift(error.name), field: shift(error.field) };
}
