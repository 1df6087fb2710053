import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { BirdRouterDriver } from '../../src/router/bird/bird-driver.js';
import { BirdControlSocket, isSuccess, replyText } from '../../src/router/bird/control-socket.js';
import type { DesiredSession } from '../../src/router/driver.js';
import { describeWithBird, freePort, loopbackBlock, startBird, type RunningBird } from '../support/bird.js';

// How the driver manages BIRD's configuration, against one real BIRD: incremental changes, refusals and rollback,
// resync, restarts of the driver. Sessions are passive towards unused loopback addresses: no BGP is needed here
// (bird-bgp.test.ts has the BGP).
describeWithBird('BIRD driver: configuration management on a real BIRD', () => {
  let bird: RunningBird;
  let driver: BirdRouterDriver;
  const address = loopbackBlock();
  let host = 10;

  beforeAll(async () => {
    const port = await freePort([address(2)]);
    bird = await startBird({ name: 'bird-cfg', asn: 64500, address: address(2), port });
    driver = bird.driver({ sessionDefaults: { passive: true } });
  });
  afterAll(async () => {
    await bird?.stop();
  });

  function session(extra: Partial<DesiredSession> = {}): DesiredSession {
    const peer = { asn: 64501, address: address(host++) };
    return bird.sessionTo(peer, extra);
  }

  const fileOf = (key: string) => driver.fileOf(key);
  /** Sessions that live in different shard files, to see which files a change rewrites. */
  function sessionsInDistinctFiles(count: number): DesiredSession[] {
    const byFile = new Map<string, DesiredSession>();
    while (byFile.size < count) {
      const candidate = session();
      if (!byFile.has(fileOf(candidate.key))) byFile.set(fileOf(candidate.key), candidate);
    }
    return [...byFile.values()];
  }
  /** The block of one session in its file. */
  function blockOf(key: string): string {
    const text = readFileSync(fileOf(key), 'utf8');
    const start = text.indexOf(`# peering-operator session ${key}\n`);
    return start === -1 ? '' : text.slice(start, text.indexOf('\n}\n', start) + 3);
  }
  const running = async () =>
    new Set((await driver.observe()).filter((s) => s.state !== 'unknown').map((s) => s.key));

  it('creates, leaves alone, and updates: only changed files are rewritten, BIRD reloads once per batch', async () => {
    const sessions = sessionsInDistinctFiles(3);
    const created = await driver.apply({ upsert: sessions });
    expect(created.reloaded).toBe(true);
    expect(created.sessions.map((s) => s.outcome === 'configured' && s.change)).toEqual([
      'created',
      'created',
      'created',
    ]);
    expect(await running()).toEqual(new Set(sessions.map((s) => s.key)));

    const again = await driver.apply({ upsert: sessions });
    expect(again).toEqual({
      reloaded: false,
      sessions: sessions.map((s) => ({ key: s.key, outcome: 'configured', change: 'unchanged' })),
    });

    const before = sessions.map((s) => statSync(fileOf(s.key)).mtimeMs);
    const sinceBefore = (await driver.observe()).find((s) => s.key === sessions[0]?.key)?.since;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const changed = { ...sessions[1]!, maxPrefixes: 50 };
    const updated = await driver.apply({ upsert: [sessions[0]!, changed, sessions[2]!] });
    expect(updated.sessions.map((s) => s.outcome === 'configured' && s.change)).toEqual([
      'unchanged',
      'updated',
      'unchanged',
    ]);
    const after = sessions.map((s) => statSync(fileOf(s.key)).mtimeMs);
    expect(after[0]).toBe(before[0]);
    expect(after[1]).toBeGreaterThan(before[1] ?? Infinity);
    expect(after[2]).toBe(before[2]);
    expect(readFileSync(fileOf(changed.key), 'utf8')).toContain('import limit 50 action restart;');
    // BIRD kept the untouched protocol running: same since-time as before the reload.
    expect((await driver.observe()).find((s) => s.key === sessions[0]?.key)?.since).toEqual(sinceBefore);
    expect(await bird.birdc(`show protocols all ${driver.protocolOf(changed.key)}`)).toMatch(
      /Import limit:\s+50/,
    );
  });

  it('writes shard files readable by BIRD only (mode 0640), each session under a line with its key', () => {
    const files = readdirSync(bird.includeDir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      expect(file).toMatch(/^sessions-[0-9a-f]{2}\.conf$/);
      const path = join(bird.includeDir, file);
      expect(statSync(path).mode & 0o777).toBe(0o640);
      expect(readFileSync(path, 'utf8')).toMatch(/^# peering-operator session \d+\|pdb:ix:1\|.*\n/m);
    }
  });

  it('rejects the one session BIRD refuses, restores its file, and applies the rest of the batch', async () => {
    const good = session();
    const existing = session();
    await driver.apply({ upsert: [existing] });
    const previous = blockOf(existing.key);
    expect(previous).toContain('protocol bgp');
    const unknownFilter = session({ importFilter: 'no_such_filter' });
    // An operator typo in a filter name: valid as an identifier, unknown to BIRD.
    const brokenUpdate = { ...existing, exportFilter: 'also_missing' };
    const result = await driver.apply({ upsert: [good, unknownFilter, brokenUpdate] });
    expect(result.sessions).toEqual([
      { key: good.key, outcome: 'configured', change: 'created' },
      {
        key: unknownFilter.key,
        outcome: 'rejected',
        error: expect.objectContaining({ code: 'ROUTER_REJECTED' }),
      },
      { key: existing.key, outcome: 'rejected', error: expect.objectContaining({ code: 'ROUTER_REJECTED' }) },
    ]);
    const refusal = result.sessions[1];
    expect(refusal?.outcome === 'rejected' && refusal.error.message).toMatch(
      /no_such_filter|syntax error|unknown/i,
    );
    expect(refusal?.outcome === 'rejected' && refusal.error.field).toBe(`sessions[${unknownFilter.key}]`);
    const onDisk = readdirSync(bird.includeDir)
      .map((file) => readFileSync(join(bird.includeDir, file), 'utf8'))
      .join('');
    expect(onDisk).not.toContain(unknownFilter.key);
    expect(onDisk).not.toMatch(/no_such_filter|also_missing/);
    expect(blockOf(existing.key)).toBe(previous);
    expect(blockOf(good.key)).toContain('protocol bgp');
    const keys = await running();
    expect(keys.has(good.key)).toBe(true);
    expect(keys.has(unknownFilter.key)).toBe(false);
    // What BIRD runs now is what is on disk: the next batch owes it nothing.
    expect((await driver.apply({ upsert: [good, existing] })).reloaded).toBe(false);
  });

  it('refuses a whole batch when BIRD refuses a session the batch did not change, and puts every file back', async () => {
    const standing = session({ exportFilter: 'export_announced' });
    await driver.apply({ upsert: [standing] });
    const mainConfig = readFileSync(bird.configPath, 'utf8');
    try {
      // Someone deletes a filter a standing session uses: nothing this batch does can be applied any more.
      writeFileSync(bird.configPath, mainConfig.replace(/filter export_announced \{[^}]*\}/, ''));
      const bystander = session();
      await expect(driver.apply({ upsert: [bystander] })).rejects.toMatchObject({
        code: 'ROUTER_REJECTED',
        message: expect.stringContaining(`in session ${standing.key}, which this batch did not change`),
      });
      const file = driver.fileOf(bystander.key);
      expect(existsSync(file) ? readFileSync(file, 'utf8') : '').not.toContain(bystander.key);
    } finally {
      writeFileSync(bird.configPath, mainConfig);
    }
  });

  it('refuses a whole batch BIRD cannot be reached for, and puts every file back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bird-unreachable-'));
    try {
      const offline = new BirdRouterDriver({
        socketPath: join(dir, 'no-bird.ctl'),
        includeDir: join(dir, 'sessions'),
      });
      const first = session();
      await expect(offline.apply({ upsert: [first] })).rejects.toMatchObject({
        code: 'ROUTER_UNAVAILABLE',
        message: expect.stringContaining('no-bird.ctl'),
      });
      expect(readdirSync(join(dir, 'sessions'))).toEqual([]);
      await expect(offline.observe()).rejects.toMatchObject({ code: 'ROUTER_UNAVAILABLE' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports sessions BIRD does not run as unknown, saying why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bird-not-included-'));
    try {
      // A directory BIRD's configuration does not include: BIRD accepts the reload and runs nothing from it.
      const stray = new BirdRouterDriver({ socketPath: bird.socketPath, includeDir: dir });
      const lost = session();
      await stray.apply({ upsert: [lost] });
      const [observed] = (await stray.observe()).filter((s) => s.key === lost.key);
      expect(observed).toMatchObject({ state: 'unknown', lastError: expect.stringContaining('included') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('picks up where a previous driver left off, and reloads once to be sure BIRD runs what the files say', async () => {
    const kept = session();
    await driver.apply({ upsert: [kept] });
    const successor = bird.driver({ sessionDefaults: { passive: true } });
    expect((await successor.observe()).map((s) => s.key)).toContain(kept.key);
    expect(await successor.apply({ upsert: [kept] })).toEqual({
      reloaded: true,
      sessions: [{ key: kept.key, outcome: 'configured', change: 'unchanged' }],
    });
    expect((await successor.apply({ upsert: [kept] })).reloaded).toBe(false);
    driver = successor;
  });

  it('cleans up temporary files an interrupted write left behind', async () => {
    const leftover = join(bird.includeDir, '.sessions-0a.conf.tmp');
    writeFileSync(leftover, 'protocol bgp half');
    const fresh = bird.driver();
    await fresh.observe();
    expect(existsSync(leftover)).toBe(false);
  });

  it('refuses to merge two keys into one protocol name', async () => {
    const victim = session();
    await driver.apply({ upsert: [victim] });
    // Forge the file of another key under the victim's name: what a name collision would look like on disk.
    const path = fileOf(victim.key);
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace(`session ${victim.key}\n`, 'session 64999|pdb:ix:9|x|y\n'),
    );
    const reader = bird.driver({ sessionDefaults: { passive: true } });
    const result = await reader.apply({ upsert: [victim] });
    expect(result.sessions[0]).toMatchObject({
      outcome: 'rejected',
      error: { code: 'ROUTER_REJECTED', message: expect.stringContaining('already used') },
    });
  });

  it('sync removes every managed session not desired and leaves BIRD’s own protocols alone', async () => {
    const keep = session();
    const result = await driver.sync([keep]);
    expect(result.sessions[0]).toEqual({ key: keep.key, outcome: 'configured', change: 'created' });
    expect(result.sessions.slice(1).every((s) => s.outcome === 'removed')).toBe(true);
    expect(result.sessions.length).toBeGreaterThan(3);
    await expect(running()).resolves.toEqual(new Set([keep.key]));
    expect(readdirSync(bird.includeDir)).toEqual([basename(driver.fileOf(keep.key))]);
    expect(readFileSync(driver.fileOf(keep.key), 'utf8').match(/^protocol bgp /gm)).toHaveLength(1);
    expect(await bird.birdc('show protocols')).toMatch(/device1\s+Device/);
  });

  it('speaks the control socket: errors come back as codes, line breaks in commands are refused', async () => {
    const socket = await BirdControlSocket.open(bird.socketPath);
    try {
      expect(socket.version).toMatch(/^BIRD 2\.\d+\.\d+ ready\.$/);
      expect((await socket.command('show nonsense')).code).toBe(9001);
      await expect(socket.command('show status\nconfigure')).rejects.toThrow(RangeError);
      const status = await socket.command('show status');
      expect(isSuccess(status.code)).toBe(true);
      expect(replyText(status)).toMatch(/Daemon is up and running/);
    } finally {
      socket.close();
    }
  });
});
