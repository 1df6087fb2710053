import { chmod, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FILE_HEADER } from './render.js';
import { isManagedProtocolName } from './names.js';

/** One session's configuration: the key it was rendered for and its `protocol bgp` block. */
export interface SessionBlock {
  key: string;
  text: string;
}

/** Session blocks by protocol name: what the include directory holds (or is about to). */
export type SessionBlocks = ReadonlyMap<string, SessionBlock>;

const SHARD_FILE = /^sessions-([0-9a-f]{2})\.conf$/;
const PROTOCOL_LINE = /^protocol bgp (\S+) \{$/m;
const SHARD_HEADER = [
  '# Sessions of peering-operator, written by its BIRD driver: edits here are overwritten.',
  '# One `protocol bgp` per session; the file a session lives in follows from its protocol name.',
];

/**
 * The shard a protocol lives in: the first two hex digits of the hash in its name (256 shards).
 *
 * Why shards and not a file per session: BIRD opens every included file at each `configure check` and
 * `configure`, and with 10,000 files opening them is most of its parse time (0.4 s against 0.15 s for the same
 * text in one file). 256 shards keep that cost small while a change still rewrites one small file
 * (about 40 sessions when there are 10,000). ADR 0004.
 */
export function shardOf(protocol: string): string {
  return protocol.slice(-16, -14);
}

/**
 * The include directory the driver owns: `sessions-00.conf` … `sessions-ff.conf`, read by BIRD through
 * `include "<dir>/*.conf";` in its main configuration.
 *
 * Each file is replaced atomically (written beside it as `.sessions-XX.conf.tmp`, which the `*.conf` glob never
 * matches, then renamed over it), so BIRD never reads half a file. A batch is not atomic as a whole: the driver
 * rewrites the shards it touched from the previous state when BIRD refuses the new one.
 */
export class SessionFiles {
  constructor(
    readonly dir: string,
    private readonly fileMode: number,
  ) {}

  /** The sessions in the directory, by protocol name; leftovers of an interrupted write are removed. */
  async load(): Promise<Map<string, SessionBlock>> {
    await mkdir(this.dir, { recursive: true });
    const blocks = new Map<string, SessionBlock>();
    for (const entry of await readdir(this.dir)) {
      if (/^\.sessions-[0-9a-f]{2}\.conf\.tmp$/.test(entry)) {
        await unlink(join(this.dir, entry)).catch(() => undefined);
        continue;
      }
      if (!SHARD_FILE.test(entry)) continue;
      for (const block of splitBlocks(await readFile(join(this.dir, entry), 'utf8'))) {
        const name = PROTOCOL_LINE.exec(block.text)?.[1];
        if (name !== undefined && isManagedProtocolName(name) && shardOf(name) === entry.slice(9, 11)) {
          blocks.set(name, block);
        }
      }
    }
    return blocks;
  }

  /** Rewrites `shards` from `state`: each with the blocks of its protocols, or removed when it has none. */
  async write(state: SessionBlocks, shards: ReadonlySet<string>): Promise<void> {
    const byShard = groupByShard(state, shards);
    await Promise.all(
      [...shards].map((shard) => this.put(shard, shardText(byShard.get(shard) ?? [], state))),
    );
  }

  /** The file of a shard, as BIRD names it in its error messages. */
  pathOf(shard: string): string {
    return join(this.dir, `sessions-${shard}.conf`);
  }

  /**
   * The protocol whose block holds line `line` (1-based) of `shard` as written from `state`, to pin a refusal
   * BIRD reports as `file:line:column` on one session.
   */
  protocolAt(state: SessionBlocks, shard: string, line: number): string | undefined {
    let first = SHARD_HEADER.length + 1;
    for (const name of groupByShard(state, new Set([shard])).get(shard) ?? []) {
      const lines = lineCount(state.get(name)?.text ?? '');
      if (line >= first && line < first + lines) return name;
      first += lines;
    }
    return undefined;
  }

  private async put(shard: string, content: string | undefined): Promise<void> {
    const path = this.pathOf(shard);
    if (content === undefined) {
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      return;
    }
    const temporary = join(this.dir, `.sessions-${shard}.conf.tmp`);
    await writeFile(temporary, content, { mode: this.fileMode });
    // writeFile's mode is filtered by the umask; the files hold secrets, so their mode is set exactly.
    await chmod(temporary, this.fileMode);
    // No fsync: after a crash the operator resyncs every session from its own store, so what matters is that
    // BIRD never reads a half-written file, which the rename guarantees.
    await rename(temporary, path);
  }
}

function groupByShard(state: SessionBlocks, shards: ReadonlySet<string>): Map<string, string[]> {
  const byShard = new Map<string, string[]>();
  for (const name of state.keys()) {
    const shard = shardOf(name);
    if (!shards.has(shard)) continue;
    const names = byShard.get(shard);
    if (names) names.push(name);
    else byShard.set(shard, [name]);
  }
  for (const names of byShard.values()) names.sort();
  return byShard;
}

function shardText(names: readonly string[], state: SessionBlocks): string | undefined {
  if (names.length === 0) return undefined;
  // Blocks end with a line break: concatenated, line numbers add up exactly (see protocolAt).
  return `${SHARD_HEADER.join('\n')}\n${names.map((name) => state.get(name)?.text ?? '').join('')}`;
}

/** Blocks start at their header line (`# peering-operator session <key>`) and run to the next one. */
function splitBlocks(content: string): SessionBlock[] {
  const starts: number[] = content.startsWith(FILE_HEADER) ? [0] : [];
  const marker = `\n${FILE_HEADER}`;
  for (let i = content.indexOf(marker); i !== -1; i = content.indexOf(marker, i + 1)) starts.push(i + 1);
  return starts.map((start, index) => {
    const text = content.slice(start, starts[index + 1] ?? content.length);
    const firstLine = text.slice(0, text.indexOf('\n'));
    return { key: firstLine.slice(FILE_HEADER.length), text };
  });
}

function lineCount(text: string): number {
  let lines = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
  return lines;
}
