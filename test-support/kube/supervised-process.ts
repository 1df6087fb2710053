import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';

/**
 * Runs a control-plane binary so that it can never outlive the test process.
 *
 * The binary runs under a small bash guard, in a process group of its own.
 * - SIGTERM to the guard is passed on to the binary, and the guard exits with
 *   the binary's status once it is gone, having reaped everything it started.
 * - The guard's stdin is a pipe whose only writer is this Node process. When
 *   Node dies, however it dies (a failed test, jest killing a worker, SIGKILL,
 *   a crash), the pipe reaches end-of-file, and the guard terminates the
 *   binary: SIGTERM, then SIGKILL after 10 s. `process.on('exit')` alone
 *   would miss signals and worker kills.
 * The watcher subshell takes its sleep with it when stopped (every job of its
 * own, so also a sleep started an instant before its pid was recorded), so a
 * clean stop leaves no orphan behind either.
 */
const GUARD = `
exec 3<&0
"$@" </dev/null &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM
{
  trap 'kill $(jobs -p) 2>/dev/null; exit 0' TERM
  while read -r -u 3 _; do :; done
  kill -TERM $$
  sleep 10 & sleeper=$!
  wait "$sleeper"
  kill -KILL "$child" 2>/dev/null
} &
watcher=$!
wait "$child"
status=$?
while kill -0 "$child" 2>/dev/null; do
  wait "$child"
  status=$?
done
kill "$watcher" 2>/dev/null
wait "$watcher"
exit "$status"
`;

/** `bash` arguments that run `binary` under the guard above; the guard's stdin must be a pipe from us. */
export function guardedCommand(name: string, binary: string, args: readonly string[]): string[] {
  return ['-c', GUARD, `${name}-guard`, binary, ...args];
}

export interface SupervisedProcess {
  readonly name: string;
  /** Process-group id; the guard's pid. */
  readonly pgid: number;
  readonly logPath: string;
  /** Resolves with the exit code (or signal name) once the guard has exited. */
  readonly exited: Promise<number | string>;
  hasExited(): boolean;
  /** The last `lines` lines of the combined stdout/stderr log. */
  logTail(lines?: number): string;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves when no member of the group is left. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A last resort for a test that forgot stop(): 'exit' handlers must be
  // synchronous, so the group gets SIGKILL rather than a graceful stop.
  process.on('exit', () => {
    for (const pgid of live) signal(-pgid, 'SIGKILL');
  });
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Live members of process group `pgid`, read from /proc. Zombies do not
 * count: a member orphaned by SIGKILL stays a zombie until init reaps it,
 * which can take a while in a container, but it holds no port and no file.
 */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited between readdir and read
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') members.push(Number(entry));
  }
  return members;
}

export function groupAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

export function startSupervisedProcess(
  name: string,
  binary: string,
  args: readonly string[],
  logPath: string,
): SupervisedProcess {
  installExitHook();
  const log = openSync(logPath, 'a');
  let child;
  try {
    child = spawn('bash', guardedCommand(name, binary, args), {
      detached: true,
      stdio: ['pipe', log, log],
    });
  } finally {
    closeSync(log);
  }
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (error) => {
      done = true;
      resolve(error.message);
    });
  });

  const pgid = child.pid;
  if (pgid === undefined) throw new Error(`could not start ${name}: bash is not available`);
  live.add(pgid);

  const logTail = (lines = 40): string => {
    try {
      return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };

  const stop = async (graceMs = 10_000): Promise<void> => {
    if (!done) {
      // To the guard alone: it passes SIGTERM on and waits for the binary.
      signal(pgid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const graceful = await Promise.race([
        exited.then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
      ]);
      clearTimeout(timer);
      if (!graceful) signal(-pgid, 'SIGKILL');
      await exited;
    }
    child.stdin?.destroy();
    // After a SIGKILL the binary may outlive the guard by a moment.
    const deadline = Date.now() + 5_000;
    while (groupAlive(pgid) && Date.now() < deadline) await sleep(20);
    if (groupAlive(pgid)) signal(-pgid, 'SIGKILL');
    live.delete(pgid);
  };

  return { name, pgid, logPath, exited, hasExited: () => done, logTail, stop };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
