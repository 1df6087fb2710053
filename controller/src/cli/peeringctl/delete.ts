import type { Command } from 'commander';
import type { PeeringApiClient } from '../../client/client.js';
import { PeeringError } from '../../domain/errors.js';
import { globalsOf, openClient, sessionKeyOptions } from './context.js';
import { EXIT, UsageError } from './exit-codes.js';
import { errorLines, print } from './output.js';

interface DeleteFlags {
  sessionId?: string[];
  localAsn?: number;
  peerAsn?: number;
  location?: string;
  localIp?: string;
  peerIp?: string;
}

interface Deletion {
  session_id?: string | undefined;
  result: 'deleted' | 'absent';
}

/** `peeringctl delete`: removes sessions; one already gone counts as done, so a Terraform destroy is idempotent. */
export function registerDelete(program: Command): void {
  const command = program
    .command('delete')
    .description(
      'Delete sessions by id, or one session by its natural key; an absent session is not an error',
    )
    .option('--session-id <id>', 'a session to delete (repeatable)', (v: string, p: string[] = []) => [
      ...p,
      v,
    ]);
  sessionKeyOptions(command, ' (natural key)')
    .addHelpText(
      'after',
      `
Exit 0 when the session was deleted or was already absent; JSON output: {deleted: [{session_id, result}]}
with result "deleted" or "absent".

Examples:
  peeringctl delete --session-id 0b0e5c56-1a7e-4a8e-9f57-6c1b5d2f3a10
  peeringctl delete --peer-asn 64500 --location pdb:ix:1 --local-ip 192.0.2.2 --peer-ip 192.0.2.1`,
    )
    .action(async (flags: DeleteFlags, cmd: Command) => {
      const byKey = [flags.peerAsn, flags.location, flags.localIp, flags.peerIp];
      if (flags.sessionId !== undefined && byKey.some((v) => v !== undefined)) {
        throw new UsageError(
          'give either --session-id or the natural key (--peer-asn, --location, --local-ip, --peer-ip)',
        );
      }
      if (flags.sessionId === undefined && byKey.some((v) => v === undefined)) {
        throw new UsageError(
          'give --session-id, or all of --peer-asn, --location, --local-ip and --peer-ip to find the session',
        );
      }
      const globals = globalsOf(cmd);
      const client = await openClient(globals, flags.localAsn === undefined ? [] : [flags.localAsn]);
      try {
        const deletions =
          flags.sessionId !== undefined
            ? await byIds(client, flags.sessionId)
            : await byNaturalKey(client, flags);
        print(globals.output, { deleted: deletions }, () => ({
          columns: ['SESSION ID', 'RESULT'],
          rows: deletions.map((d) => [d.session_id ?? '(no such session)', d.result]),
        }));
      } finally {
        await client.close();
      }
    });
}

async function byIds(client: PeeringApiClient, ids: string[]): Promise<Deletion[]> {
  if (ids.length === 1) {
    const id = ids[0]!;
    try {
      await client.deleteSession(id);
      return [{ session_id: id, result: 'deleted' }];
    } catch (error) {
      if (error instanceof PeeringError && error.code === 'SESSION_NOT_FOUND')
        return [{ session_id: id, result: 'absent' }];
      throw error;
    }
  }
  const answer = await client.deleteSessions(ids);
  const deleted = new Set(answer.sessions.map((s) => s.sessionId));
  const absent = new Set<string>();
  const failures = answer.errors.filter((e) => {
    const index = Number(/^sessions\[(\d+)\]/.exec(e.name)?.[1] ?? -1);
    if (e.code === 'SESSION_NOT_FOUND' && ids[index] !== undefined) {
      absent.add(ids[index]);
      return false;
    }
    return true;
  });
  if (failures.length > 0) {
    process.stderr.write(`not deleted:\n${errorLines(failures)}`);
    process.exitCode = EXIT.refused;
  }
  return ids
    .filter((id) => deleted.has(id) || absent.has(id))
    .map((id) => ({ session_id: id, result: deleted.has(id) ? 'deleted' : 'absent' }));
}

async function byNaturalKey(client: PeeringApiClient, flags: DeleteFlags): Promise<Deletion[]> {
  const session = await client.findSession({
    localAsn: flags.localAsn,
    peerAsn: flags.peerAsn!,
    location: flags.location!,
    localIp: flags.localIp!,
    peerIp: flags.peerIp!,
  });
  if (session === undefined) return [{ result: 'absent' }];
  return byIds(client, [session.sessionId]);
}
