import { setTimeout as sleep } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import type { RemoteSession } from '../../client/answers.js';
import type { PeeringApiClient } from '../../client/client.js';
import { PeeringError } from '../../domain/errors.js';
import { globalsOf, openClient, parse } from './context.js';
import { EXIT, UsageError } from './exit-codes.js';
import { print, sessionTable, sessionView } from './output.js';
import { ProgressLine, watchState } from './watch.js';

interface StatusFlags {
  sessionId?: string;
  requestId?: string;
  localAsn?: number;
  watch?: boolean;
  interval: number;
  watchTimeout: number;
}

/** Failures worth waiting out while watching: the next poll may well work. */
const TRANSIENT = new Set(['REMOTE_UNAVAILABLE', 'TIMEOUT', 'RATE_LIMITED']);

/** `peeringctl status`: the sessions of a request, or one session; `--watch` follows them to a final status. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'Show the status of a session or of every session of a request; --watch follows it to the end',
    )
    .option('--session-id <id>', 'one session')
    .option('--request-id <id>', "the sessions of a request (the server's request_id or yours)")
    .option(
      '--local-asn <asn>',
      'your network (narrows the listing, and reads answers from your view)',
      parse.asn,
    )
    .option('-w, --watch', 'poll until every session is established, rejected or unestablished')
    .addOption(
      new Option('--interval <duration>', 'time between polls with --watch')
        .argParser(parse.duration)
        .default(5_000, '5s'),
    )
    .addOption(
      new Option('--watch-timeout <duration>', 'give up watching after this long (exit 8)')
        .argParser(parse.duration)
        .default(30 * 60_000, '30m'),
    )
    .addHelpText(
      'after',
      `
With --watch a progress line on stderr shows how many sessions are in which status; the final sessions are
printed when every one is established (exit 0) or any ended rejected or unestablished (exit 7).

Examples:
  peeringctl status --session-id 0b0e5c56-1a7e-4a8e-9f57-6c1b5d2f3a10
  peeringctl status --request-id change-4711 --local-asn 64501 --watch --interval 10s --watch-timeout 1h
  peeringctl status --request-id change-4711 -o json | jq -r '.sessions[].status'`,
    )
    .action(async (flags: StatusFlags, cmd: Command) => {
      if ((flags.sessionId === undefined) === (flags.requestId === undefined)) {
        throw new UsageError('give exactly one of --session-id and --request-id');
      }
      const globals = globalsOf(cmd);
      const client = await openClient(globals, flags.localAsn === undefined ? [] : [flags.localAsn]);
      try {
        const fetch = () => sessionsOf(client, flags);
        let sessions = await fetch();
        if (flags.watch) {
          const started = Date.now();
          const progress = new ProgressLine();
          let state = watchState(sessions);
          let note = '';
          try {
            while (!state.done) {
              progress.show(`${state.summary}${note}`, Date.now() - started);
              if (Date.now() - started + flags.interval > flags.watchTimeout) {
                progress.end();
                print(globals.output, { sessions: sessions.map(sessionView), final: false }, () =>
                  sessionTable(sessions),
                );
                process.stderr.write(
                  `gave up after ${Math.round((Date.now() - started) / 1000)} s: ${state.summary}\n`,
                );
                process.exitCode = EXIT.watchTimeout;
                return;
              }
              await sleep(flags.interval);
              try {
                sessions = await fetch();
                state = watchState(sessions);
                note = '';
              } catch (error) {
                if (!(error instanceof PeeringError) || !TRANSIENT.has(error.code)) throw error;
                note = ` (last poll failed: ${error.code}, retrying)`;
              }
            }
            progress.show(state.summary, Date.now() - started);
          } finally {
            progress.end();
          }
          print(globals.output, { sessions: sessions.map(sessionView), final: true }, () =>
            sessionTable(sessions),
          );
          if (!state.established) process.exitCode = EXIT.sessionFailed;
          return;
        }
        print(globals.output, { sessions: sessions.map(sessionView) }, () => sessionTable(sessions));
      } finally {
        await client.close();
      }
    });
}

async function sessionsOf(client: PeeringApiClient, flags: StatusFlags): Promise<RemoteSession[]> {
  if (flags.sessionId !== undefined)
    return [await client.getSession(flags.sessionId, { asn: flags.localAsn })];
  const sessions: RemoteSession[] = [];
  for await (const session of client.listSessions({ asn: flags.localAsn, requestId: flags.requestId })) {
    sessions.push(session);
  }
  if (sessions.length === 0) {
    throw new PeeringError(
      'SESSION_NOT_FOUND',
      `no sessions of request ${flags.requestId} are visible to you`,
      'request_id',
    );
  }
  return sessions;
}
