import { PeeringError } from '../../domain/errors.js';
import {
  validateDesiredSession,
  type ApplyResult,
  type BgpState,
  type DesiredSession,
  type ObservedSession,
  type RouterDriver,
  type SessionBatch,
  type SessionOutcome,
} from '../driver.js';
import { BirdControlSocket, REPLY, isSuccess, replyText, type BirdReply } from './control-socket.js';
import { PROTOCOL_PREFIX, protocolName } from './names.js';
import { renderSession } from './render.js';
import { parseShowProtocols, type BirdProtocolStatus } from './show-protocols.js';
import { SessionFiles, type FileChange, type SessionFile } from './session-files.js';

/** What every session gets unless it says otherwise (ports, timers, filters: router-wide choices). */
export type SessionDefaults = Pick<
  DesiredSession,
  | 'importFilter'
  | 'exportFilter'
  | 'timers'
  | 'passive'
  | 'localPort'
  | 'peerPort'
  | 'multihop'
  | 'requireRoles'
>;

export interface BirdRouterDriverOptions {
  /** BIRD's control socket (`bird -s`), e.g. `/run/bird/bird.ctl`. */
  socketPath: string;
  /**
   * The directory the driver owns, one file per session; BIRD's main configuration must contain
   * `include "<includeDir>/*.conf";` (see docs/router-bird.md).
   */
  includeDir: string;
  sessionDefaults?: SessionDefaults;
  /** `strict bind` on every session (default true): listen on the session's own address only. */
  strictBind?: boolean;
  /** Mode of session files, which hold secrets (default 0o640: BIRD's group may read them). */
  fileMode?: number;
  /** Longest wait for one BIRD command; a `configure` of 10,000 sessions takes about a second. */
  commandTimeoutMs?: number;
  /** How many sessions of one batch BIRD may refuse, one by one, before the whole batch is refused. */
  maxRefusedPerBatch?: number;
}

/**
 * The {@link RouterDriver} for BIRD 2: one `protocol bgp` per session in a file of its own in `includeDir`,
 * `configure check` then `configure` over the control socket once per batch, state read back from
 * `show protocols all`.
 *
 * Batches run one at a time. Only files whose text changes are rewritten, and BIRD itself restarts only the
 * protocols whose configuration changed. When BIRD refuses a session's file (a filter that does not exist, say),
 * that file is put back as it was and the session reported `rejected`; the rest of the batch goes on. When BIRD
 * refuses for another reason, or cannot be reached, every file goes back as it was and the batch throws.
 *
 * @example
 * const router = new BirdRouterDriver({ socketPath: '/run/bird/bird.ctl', includeDir: '/etc/bird/peering.d' });
 * await router.apply({ upsert: [desiredSession(terms, { exportFilter: 'peer_out' })] });
 * const state = await router.observe();
 */
export class BirdRouterDriver implements RouterDriver {
  private readonly files: SessionFiles;
  private current: Map<string, SessionFile> | undefined;
  /** Until the first successful reload, BIRD may be running something other than what the files say. */
  private reloadOwed = true;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly strictBind: boolean;

  constructor(private readonly options: BirdRouterDriverOptions) {
    this.files = new SessionFiles(options.includeDir, options.fileMode ?? 0o640);
    this.strictBind = options.strictBind ?? true;
  }

  apply(batch: SessionBatch): Promise<ApplyResult> {
    return this.serially(() => this.applyNow(batch.upsert ?? [], batch.remove ?? [], false));
  }

  sync(desired: readonly DesiredSession[]): Promise<ApplyResult> {
    return this.serially(() => this.applyNow(desired, [], true));
  }

  observe(): Promise<ObservedSession[]> {
    return this.serially(() => this.observeNow());
  }

  /** The protocol name BIRD knows a session by (for `birdc` and logs). */
  protocolOf(key: string): string {
    return protocolName(key);
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async loaded(): Promise<Map<string, SessionFile>> {
    this.current ??= await this.files.load();
    return this.current;
  }

  private async applyNow(
    upserts: readonly DesiredSession[],
    removals: readonly string[],
    removeOthers: boolean,
  ): Promise<ApplyResult> {
    const current = await this.loaded();
    const outcomes: SessionOutcome[] = [];
    const changes = new Map<string, FileChange>();
    const textOf = (name: string) =>
      changes.has(name) ? changes.get(name)?.content : current.get(name)?.content;
    const keyOf = (name: string) => changes.get(name)?.key ?? current.get(name)?.key;

    for (const requested of upserts) {
      const session = validateDesiredSession(this.withDefaults(requested));
      if (session instanceof PeeringError) {
        outcomes.push({ key: requested.key, outcome: 'rejected', error: session });
        continue;
      }
      const name = protocolName(session.key);
      const owner = keyOf(name);
      if (owner !== undefined && owner !== session.key) {
        outcomes.push({ key: session.key, outcome: 'rejected', error: collision(session.key, owner, name) });
        continue;
      }
      const content = renderSession(session, { strictBind: this.strictBind });
      const before = textOf(name);
      if (before === content) {
        outcomes.push({ key: session.key, outcome: 'configured', change: 'unchanged' });
        continue;
      }
      changes.set(name, { name, key: session.key, content, previous: current.get(name)?.content });
      outcomes.push({
        key: session.key,
        outcome: 'configured',
        change: before === undefined ? 'created' : 'updated',
      });
    }

    const removeKeys = [...removals];
    if (removeOthers) {
      const wanted = new Set(upserts.map((s) => s.key));
      for (const file of current.values()) if (!wanted.has(file.key)) removeKeys.push(file.key);
    }
    for (const key of removeKeys) {
      const name = protocolName(key);
      if (keyOf(name) !== key || textOf(name) === undefined) {
        outcomes.push({ key, outcome: 'removed', change: 'absent' });
        continue;
      }
      changes.set(name, { name, key, content: undefined, previous: current.get(name)?.content });
      outcomes.push({ key, outcome: 'removed', change: 'removed' });
    }

    if (changes.size === 0 && !this.reloadOwed) return { sessions: outcomes, reloaded: false };
    const refused = await this.reload([...changes.values()]);
    for (const [name, change] of changes) {
      if (refused.has(name)) continue;
      if (change.content === undefined) current.delete(name);
      else current.set(name, { key: change.key, content: change.content });
    }
    const sessions = outcomes.map((outcome): SessionOutcome => {
      const error = refused.get(protocolName(outcome.key));
      return error && outcome.outcome !== 'rejected'
        ? { key: outcome.key, outcome: 'rejected', error }
        : outcome;
    });
    return { sessions, reloaded: true };
  }

  /**
   * Writes the changes and has BIRD check, then load them. A refusal that BIRD pins on one of the changed files
   * puts that file back and tries again without it; the sessions refused that way are returned by protocol name.
   */
  private async reload(changes: FileChange[]): Promise<Map<string, PeeringError>> {
    const refused = new Map<string, PeeringError>();
    // BIRD names the file and line of a refusal; the protocol name in the file name is unique to one session.
    const blames = (reply: BirdReply, change: FileChange) =>
      replyText(reply).includes(`/${change.name}.conf:`);
    const limit = this.options.maxRefusedPerBatch ?? 5;
    let pending = changes;
    await this.files.write(pending);
    try {
      const bird = await BirdControlSocket.open(this.options.socketPath, {
        timeoutMs: this.options.commandTimeoutMs,
      });
      try {
        for (;;) {
          const check = await bird.command('configure check');
          if (check.code === REPLY.CONFIGURATION_OK) break;
          const culprit = pending.find((change) => blames(check, change));
          if (!culprit || refused.size >= limit) throw configurationRefused(check, culprit);
          refused.set(culprit.name, sessionRefused(culprit.key, check));
          await this.files.rollback([culprit]);
          pending = pending.filter((change) => change !== culprit);
        }
        const configure = await bird.command('configure');
        if (!reconfigurationAccepted(configure)) throw configurationRefused(configure, undefined);
      } finally {
        bird.close();
      }
    } catch (error) {
      await this.files.rollback(pending);
      // BIRD may have loaded the new files before the connection failed: reload on the next batch in any case.
      this.reloadOwed = true;
      throw error;
    }
    this.reloadOwed = false;
    return refused;
  }

  private async observeNow(): Promise<ObservedSession[]> {
    const current = await this.loaded();
    const bird = await BirdControlSocket.open(this.options.socketPath, {
      timeoutMs: this.options.commandTimeoutMs,
    });
    let reply: BirdReply;
    try {
      reply = await bird.command(`show protocols all "${PROTOCOL_PREFIX}*"`);
    } finally {
      bird.close();
    }
    if (reply.code !== REPLY.NO_PROTOCOLS_MATCH && !isSuccess(reply.code)) {
      throw new PeeringError('ROUTER_REJECTED', `BIRD refused show protocols: ${replyText(reply)}`, 'router');
    }
    const observed = new Map<string, ObservedSession>();
    for (const protocol of parseShowProtocols(reply.lines)) {
      const key = keyOfProtocol(protocol, current);
      if (key !== undefined) observed.set(key, observedSession(key, protocol));
    }
    for (const [name, file] of current) {
      if (observed.has(file.key)) continue;
      observed.set(file.key, {
        key: file.key,
        protocol: name,
        state: 'unknown',
        lastError: `BIRD does not run ${name}: is "${this.files.dir}/*.conf" included by its main configuration?`,
        routes: { imported: 0, exported: 0 },
      });
    }
    return [...observed.values()];
  }

  private withDefaults(session: DesiredSession): DesiredSession {
    const defaults = this.options.sessionDefaults ?? {};
    const merged = { ...definedOnly(defaults), ...definedOnly(session) } as DesiredSession;
    if (defaults.timers && session.timers)
      merged.timers = { ...defaults.timers, ...definedOnly(session.timers) };
    return merged;
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The key a protocol of ours belongs to. The description carries it; it counts only if it also names the protocol
 * (so a protocol someone else called `po_…` is not mistaken for ours). Failing that, the file on disk says.
 */
function keyOfProtocol(protocol: BirdProtocolStatus, current: Map<string, SessionFile>): string | undefined {
  const described = protocol.description?.split(' ')[0];
  if (described !== undefined && protocolName(described) === protocol.name) return described;
  return current.get(protocol.name)?.key;
}

const BGP_STATES: Record<string, BgpState> = {
  idle: 'idle',
  connect: 'connect',
  active: 'active',
  opensent: 'opensent',
  openconfirm: 'openconfirm',
  established: 'established',
  // BIRD's own words: `Passive` is a passive session waiting for the peer to connect (RFC 4271's Active without
  // connecting out); `Close` is the moment a session is torn down, no longer connected and not yet retrying.
  passive: 'active',
  close: 'idle',
  down: 'down',
};

/**
 * A session as the driver reports it, from BIRD's report of its protocol.
 *
 * @example
 * observedSession(key, parseShowProtocols(reply.lines)[0]); // { key, protocol: 'po_…', state: 'established', … }
 */
export function observedSession(key: string, protocol: BirdProtocolStatus): ObservedSession {
  const infoWords = protocol.info.split(/\s+/);
  const fsmText = protocol.bgpState ?? infoWords[0] ?? '';
  let state: BgpState = protocol.state === 'down' ? 'down' : (BGP_STATES[fsmText.toLowerCase()] ?? 'unknown');
  if (protocol.proto !== 'BGP') state = 'unknown';
  // Without details, the Info column holds the state word then the error; a stopped protocol shows only its error.
  const infoError =
    protocol.state === 'down' ? protocol.info : protocol.info.slice(infoWords[0]?.length ?? 0).trim();
  const lastError = protocol.lastError ?? (infoError === '' ? undefined : infoError);
  return {
    key,
    protocol: protocol.name,
    state,
    since: protocol.since,
    lastError,
    routes: {
      imported: protocol.channels.reduce((sum, channel) => sum + channel.routes.imported, 0),
      exported: protocol.channels.reduce((sum, channel) => sum + channel.routes.exported, 0),
    },
  };
}

function reconfigurationAccepted(reply: BirdReply): boolean {
  return (
    reply.code === REPLY.RECONFIGURED ||
    reply.code === REPLY.RECONFIGURATION_IN_PROGRESS ||
    reply.code === REPLY.RECONFIGURATION_QUEUED ||
    reply.code === REPLY.RECONFIGURATION_QUEUE_REPLACED
  );
}

function collision(key: string, owner: string, name: string): PeeringError {
  return new PeeringError(
    'ROUTER_REJECTED',
    `session ${key} would get BIRD protocol name ${name}, already used by session ${owner}; refused rather than merged`,
    `sessions[${key}]`,
  );
}

function sessionRefused(key: string, reply: BirdReply): PeeringError {
  return new PeeringError(
    'ROUTER_REJECTED',
    `BIRD refused the configuration of session ${key}: ${lastLine(reply)}`,
    `sessions[${key}]`,
  );
}

function configurationRefused(reply: BirdReply, culprit: FileChange | undefined): PeeringError {
  const about = culprit ? ` (too many refused sessions in one batch; last: ${culprit.key})` : '';
  return new PeeringError(
    'ROUTER_REJECTED',
    `BIRD refused the configuration${about}: ${lastLine(reply)}`,
    'router',
  );
}

function lastLine(reply: BirdReply): string {
  return reply.lines[reply.lines.length - 1]?.text ?? `reply code ${reply.code}`;
}
