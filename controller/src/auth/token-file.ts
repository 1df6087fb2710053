import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { PeeringError } from '../domain/errors.js';

/**
 * What `peeringctl login` leaves behind: enough to get access tokens without a person, i.e. the issuer, the
 * client and the current (rotating) refresh token, plus the last access token so short-lived processes do not
 * each spend a refresh. Never the client secret.
 */
export const StoredLoginSchema = z
  .object({
    issuer: z.url(),
    client_id: z.string().min(1),
    scope: z.string().optional(),
    /** RFC 8707 resource the tokens are for; absent for opaque, PeeringDB-style tokens. */
    resource: z.url().optional(),
    refresh_token: z.string().min(1),
    access_token: z.string().min(1).optional(),
    /** Seconds since the epoch. */
    expires_at: z.number().int().optional(),
    /**
     * Thumbprint of the DPoP key (RFC 9449) the tokens were obtained with: they are bound to it, so only that
     * key may refresh or use them.
     */
    dpop_jkt: z.string().optional(),
  })
  .strict();
export type StoredLogin = z.output<typeof StoredLoginSchema>;

/**
 * Where `peeringctl login` keeps its login unless told otherwise: `$PEERINGCTL_LOGIN_FILE`, else
 * `$XDG_CONFIG_HOME/peeringctl/login.json`, else `~/.config/peeringctl/login.json`.
 *
 * @example
 * const source = new RefreshTokenSource({ tokenFile: defaultLoginFile() });
 */
export function defaultLoginFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PEERINGCTL_LOGIN_FILE) return env.PEERINGCTL_LOGIN_FILE;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'peeringctl', 'login.json');
}

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 15_000;

/**
 * A file holding a {@link StoredLogin}, readable by its owner only (mode 0600, refused otherwise, as ssh does).
 * Writes are atomic (a temporary file renamed over the old one), and {@link TokenFile.update} holds a lock file
 * so that two processes never both spend the same rotating refresh token.
 *
 * @example
 * const file = new TokenFile(`${homedir()}/.config/peeringctl/token.json`);
 * await file.write({ issuer, client_id: 'peeringctl', refresh_token });
 */
export class TokenFile {
  constructor(readonly path: string) {}

  async read(): Promise<StoredLogin> {
    let text: string;
    try {
      const info = await stat(this.path);
      if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
        throw new PeeringError(
          'INVALID_CONFIG',
          `${this.path} holds a refresh token but others may read it; run chmod 600 ${this.path}`,
          'tokenFile',
        );
      }
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if (error instanceof PeeringError) throw error;
      throw new PeeringError(
        'UNAUTHENTICATED',
        `no login at ${this.path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}); run peeringctl login`,
        'tokenFile',
        { cause: error },
      );
    }
    let parsed: ReturnType<typeof StoredLoginSchema.safeParse>;
    try {
      parsed = StoredLoginSchema.safeParse(JSON.parse(text));
    } catch (cause) {
      throw new PeeringError('INVALID_CONFIG', `${this.path} is not JSON`, 'tokenFile', { cause });
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PeeringError(
        'INVALID_CONFIG',
        `${this.path} is not a login file: ${issue?.path.join('.') || '(top level)'}: ${issue?.message ?? ''}`,
        'tokenFile',
      );
    }
    return parsed.data;
  }

  async write(login: StoredLogin): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
    // Created 0600 from the first byte: there is no moment at which the token is readable by others.
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(StoredLoginSchema.parse(login), null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.path);
  }

  /** Reads, lets `change` decide, writes what it returns (if anything), all under the lock. */
  async update<T>(change: (login: StoredLogin) => Promise<{ login?: StoredLogin; result: T }>): Promise<T> {
    const release = await this.lock();
    try {
      const { login, result } = await change(await this.read());
      if (login) await this.write(login);
      return result;
    } finally {
      await release();
    }
  }

  private async lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx', 0o600);
        await handle.close();
        return () => unlink(lockPath).catch(() => undefined);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        // A lock left by a process that died mid-refresh must not block logins forever.
        const age = await stat(lockPath).then(
          (info) => Date.now() - info.mtimeMs,
          () => 0,
        );
        if (age > LOCK_STALE_MS) await unlink(lockPath).catch(() => undefined);
        else if (Date.now() > deadline) {
          throw new PeeringError('INVALID_CONFIG', `${lockPath} is held by another process`, 'tokenFile');
        } else await sleep(25);
      }
    }
  }
}
