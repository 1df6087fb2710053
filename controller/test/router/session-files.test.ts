import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { protocolName } from '../../src/router/bird/names.js';
import { renderSession } from '../../src/router/bird/render.js';
import { SessionFiles, shardOf, type SessionBlock } from '../../src/router/bird/session-files.js';

// The shard files on their own (no BIRD): round trip through the disk, and which session a line belongs to.
describe('SessionFiles', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'session-files-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** `count` sessions whose protocols all fall into one shard, so that a file holds several blocks. */
  function oneShard(count: number): Map<string, SessionBlock> {
    const state = new Map<string, SessionBlock>();
    let shard: string | undefined;
    for (let i = 0; state.size < count; i++) {
      const key = `64501|pdb:ix:1|192.0.2.1|10.0.${i >> 8}.${i & 255}`;
      const name = protocolName(key);
      shard ??= shardOf(name);
      if (shardOf(name) !== shard) continue;
      const text = renderSession(
        {
          key,
          localAsn: 64500,
          localIp: '192.0.2.1',
          peerAsn: 64501,
          peerIp: `10.0.${i >> 8}.${i & 255}`,
          secret: `s${i}`,
        },
        { strictBind: true },
      );
      state.set(name, { key, text });
    }
    return state;
  }

  it('writes one file per shard and reads back exactly the blocks it wrote', async () => {
    const files = new SessionFiles(dir, 0o600);
    const state = oneShard(3);
    const shard = shardOf([...state.keys()][0] ?? '');
    await files.write(state, new Set([shard]));
    expect(readdirSync(dir)).toEqual([`sessions-${shard}.conf`]);
    expect(await files.load()).toEqual(state);
  });

  it('finds the session a line of a shard belongs to, for every line of every block', async () => {
    const files = new SessionFiles(dir, 0o600);
    const state = oneShard(4);
    const shard = shardOf([...state.keys()][0] ?? '');
    await files.write(state, new Set([shard]));
    const lines = readFileSync(files.pathOf(shard), 'utf8').split('\n');
    let current: string | undefined;
    lines.forEach((line, index) => {
      const declared = /^protocol bgp (\S+) \{$/.exec(line)?.[1];
      if (line.startsWith('# peering-operator session ')) current = lines[index + 2]?.split(' ')[2];
      if (declared) expect(declared).toBe(current);
      if (current !== undefined && line !== '')
        expect(files.protocolAt(state, shard, index + 1)).toBe(current);
    });
    expect(files.protocolAt(state, shard, 1)).toBeUndefined();
    expect(files.protocolAt(state, shard, lines.length + 5)).toBeUndefined();
  });

  it('removes a shard file when its last session goes, and ignores files that are not shards', async () => {
    const files = new SessionFiles(dir, 0o600);
    const state = oneShard(1);
    const shard = shardOf([...state.keys()][0] ?? '');
    await files.write(state, new Set([shard]));
    writeFileSync(
      join(dir, 'notes.conf'),
      `# peering-operator session 1|x\nprotocol bgp po_0123456789abcdef {}\n`,
    );
    expect([...(await files.load()).keys()]).toEqual([...state.keys()]);
    await files.write(new Map(), new Set([shard]));
    expect(readdirSync(dir)).toEqual(['notes.conf']);
  });
});
