import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { groupAlive, guardedCommand, sleep, startSupervisedProcess } from './supervised-process.js';

async function waitUntilGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!groupAlive(pgid)) return true;
    await sleep(50);
  }
  return !groupAlive(pgid);
}

describe('supervised process', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'peering-supervised-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('kills the binary when the test process goes away, however it goes (stdin reaches EOF)', async () => {
    // What a SIGKILLed jest worker looks like to the guard: the write end of its stdin closes.
    const guard = spawn('bash', guardedCommand('sleeper', 'sleep', ['300']), {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const pgid = guard.pid as number;
    try {
      await sleep(200);
      expect(groupAlive(pgid)).toBe(true);
      guard.stdin.destroy();
      expect(await waitUntilGone(pgid, 8_000)).toBe(true);
    } finally {
      if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
    }
  });

  it('stop() escalates to SIGKILL for a binary that ignores SIGTERM, and leaves no member of the group', async () => {
    // An ignored signal stays ignored across exec, so `sleep` here shrugs off SIGTERM.
    const stubborn = startSupervisedProcess(
      'stubborn',
      'bash',
      ['-c', 'trap "" TERM; exec sleep 300'],
      join(dir, 'log'),
    );
    await sleep(200);
    expect(stubborn.hasExited()).toBe(false);
    const started = Date.now();
    await stubborn.stop(500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(groupAlive(stubborn.pgid)).toBe(false);
  });

  it('reports the exit code and log of a binary that fails', async () => {
    const failing = startSupervisedProcess(
      'failing',
      'bash',
      ['-c', 'echo "bind: address already in use" >&2; exit 3'],
      join(dir, 'log'),
    );
    expect(await failing.exited).toBe(3);
    expect(failing.logTail()).toContain('address already in use');
    await failing.stop();
  });
});
