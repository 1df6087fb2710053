import type { Command } from 'commander';
import type { RemoteSession } from '../../client/answers.js';
import { globalsOf, openClient, parse } from './context.js';
import { print, sessionTable, sessionView } from './output.js';

/** `peeringctl list`: every session you have with the remote network (`GET /sessions`, all pages). */
export function registerList(program: Command): void {
  program
    .command('list')
    .description('List your sessions with the remote network (GET /sessions, every page)')
    .option('--local-asn <asn>', 'your network (default: every ASN your token holds)', parse.asn)
    .option('--request-id <id>', "only the sessions of one request (the server's request_id or yours)")
    .option('--page-size <n>', 'sessions per page asked of the API (1-100)', parse.pageSize)
    .addHelpText(
      'after',
      `
Examples:
  peeringctl list --api-url https://peering.example.net/v0.1 --token "$TOKEN" --local-asn 64501
  peeringctl list --request-id change-4711 -o yaml`,
    )
    .action(async (flags: { localAsn?: number; requestId?: string; pageSize?: number }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const client = await openClient(globals, flags.localAsn === undefined ? [] : [flags.localAsn]);
      try {
        const sessions: RemoteSession[] = [];
        for await (const session of client.listSessions({
          asn: flags.localAsn,
          requestId: flags.requestId,
          maxResults: flags.pageSize,
        })) {
          sessions.push(session);
        }
        print(globals.output, { sessions: sessions.map(sessionView) }, () => sessionTable(sessions));
      } finally {
        await client.close();
      }
    });
}
