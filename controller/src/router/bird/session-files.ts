import { chmod, mkdir, open, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FILE_HEADER } from './render.js';
import { isManagedProtocolName } from './names.js';

/** A session file as it is on disk: the key it was written for and its whole text. */
export interface SessionFile {
  key: string;
  content: string;
}

/** One file to replace: `content` undefined removes it; `previous` is what to restore on rollback. */
export interface FileChange {
  name: string;
  key: string;
  content: string | undefined;
  previous: string | undefined;
}

// Files are written many at a time (a resync rewrites thousands), but not all at once: that would open
// thousands of descriptors.
const PARALLEL = 64;

/**
 * The include directory the driver owns: one `<protocol>.conf` per session, read by BIRD through
 * `include "<dir>/*.conf";` in its main configuration.
 *
 * Each file is replaced atomically (written beside it as `.<name>.conf.tmp`, which the `*.conf` glob never
 * matches, then renamed over it), so BIRD never reads half a file. A batch is not atomic as a whole; the driver
 * restores the previous contents ({@link SessionFiles.rollback}) when BIRD refuses the new ones.
 */
export class SessionFiles {
  constructor(
    readonly dir: string,
    private readonly fileMode: number,
  ) {}

  /** The files of ours in the directory, by protocol name; leftovers of an interrupted write are removed. */
  async load(): Promise<Map<string, SessionFile>> {
    await mkdir(this.dir, { recursive: true });
    const files = new Map<string, SessionFile>();
    const entries = await readdir(this.dir);
    await inBatches(entries, async (entry) => {
      if (/^\.po_.*\.conf\.tmp$/.test(entry)) {
        await unlink(join(this.dir, entry)).catch(() => undefined);
        return;
      }
      const name = entry.endsWith('.conf') ? entry.slice(0, -'.conf'.length) : undefined;
      if (name === undefined || !isManagedProtocolName(name)) return;
      const content = await readFile(join(this.dir, entry), 'utf8');
      const firstLine = content.slice(0, content.indexOf('\n'));
      if (!firstLine.startsWith(FILE_HEADER)) return;
      files.set(name, { key: firstLine.slice(FILE_HEADER.length), content });
    });
    return files;
  }

  /** Writes every change (atomically per file). */
  async write(changes: readonly FileChange[]): Promise<void> {
    await inBatches(changes, (change) => this.put(change.name, change.content));
    await this.syncDirectory();
  }

  /** Puts back what was there before `changes`. */
  async rollback(changes: readonly FileChange[]): Promise<void> {
    await inBatches(changes, (change) => this.put(change.name, change.previous));
    await this.syncDirectory();
  }

  /** The path of a session's file, as BIRD names it in its error messages. */
  pathOf(name: string): string {
    return join(this.dir, `${name}.conf`);
  }

  private async put(name: string, content: string | undefined): Promise<void> {
    const path = this.pathOf(name);
    if (content === undefined) {
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      return;
    }
    const temporary = join(this.dir, `.${name}.conf.tmp`);
    await writeFile(temporary, content, { mode: this.fileMode });
    // writeFile's mode is filtered by the umask; the mode is a promise to the operator, so set it exactly.
    await chmod(temporary, this.fileMode);
    await rename(temporary, path);
  }

  /** Makes the renames durable. Per-file fsync would cost seconds for a resync of thousands of sessions. */
  private async syncDirectory(): Promise<void> {
    const handle = await open(this.dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += PARALLEL) {
    await Promise.all(items.slice(start, start + PARALLEL).map(work));
  }
}
