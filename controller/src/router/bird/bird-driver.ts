import { PeeringError } from '../../domain/errors.js';
import {
  OneAtATime,
  validateDesiredSession,
  withSessionDefaults,
  type ApplyResult,
  type BgpState,
  type DesiredSession,
  type ObservedSession,
  type RouterDriver,
  type SessionBatch,
  type SessionDefaults,
  type SessionOutcome,
} from '../driver.js';
import { BirdControlSocket, REPLY, isSuccess, replyText, type BirdReply } from './control-socket.js';
import { PROTOCOL_PREFIX, protocolName } from './names.js';
import { renderSession } from './render.js';
import { parseShowProtocols, type BirdProtocolStatus } from './show-protocols.js';
import { SessionFiles, shardOf, type SessionBlock } from './session-files.js';

/** What every session gets unless it says otherwise (defined with the driver seam; named here for BIRD users). */
export type { SessionDefaults } from '../driver.js';

export interface BirdRouterDriverOptions {
  /** BIRD's control socket (`bird -s`), e.g. `/run/bird/bird.ctl`. */
  socketPath: string;
  /**
   * The directory the driver owns (it creates it); BIRD's main configuration must contain
   * `include "<includeDir>/*.conf";` (docs/router-bird.md), and the directory must exist before BIRD starts.
   */
  includeDir: string;
  sessionDefaults?: SessionDefaults | undefined;
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
 * The {@link RouterDriver} for BIRD 2: one `protocol bgp` per session, in shard files of `includeDir`;
 * `configure check` then `configure` over the control socket, once per batch; state read back from
 * `show protocols all`.
 *
 * Batches run one at a time. Only shards whose text changes are rewritten, and BIRD itself restarts only the
 * protocols whose configuration changed. When BIRD refuses one session (a filter that does not exist, say), that
 * session is put back as it was and reported `rejected`; the rest of the batch goes on. When BIRD refuses for
 * another reason, every file goes back as it was and the batch throws `ROUTER_REJECTED`; when BIRD cannot be
 * reached, the same roll-back happens and it throws `ROUTER_UNAVAILABLE` (a caller retries rather than gives up).
 *
 * @example
 * const router = new BirdRouterDriver({ socketPath: '/run/bird/bird.ctl', includeDir: '/etc/bird/peering.d' });
 * await router.apply({ upsert: [desiredSession(terms, { exportFilter: 'peer_out' })] });
 * const state = await router.observe();
 */
export class BirdRouterDriver implements RouterDriver {
  private readonly files: SessionFiles;
  private current: Map<string, SessionBlock> | undefined;
  /**
   * The last session accepted for each key, as given: a resync of thousands of unchanged sessions is then a
   * string comparison each, not a validation and a rendering each.
   */
  private readonly accepted = new Map<string, string>();
  private readonly names = new Map<string, string>();
  /** Until the first successful reload, BIRD may be running something other than what the files say. */
  private reloadOwed = true;
  private readonly queue = new OneAtATime();
  private readonly strictBind: boolean;

  constructor(private readonly options: BirdRouterDriverOptions) {
    this.files = new SessionFiles(options.includeDir, options.fileMode ?? 0o640);
    this.strictBind = options.strictBind ?? true;
  }

  apply(batch: SessionBatch): Promise<ApplyResult> {
    return this.queue.run(() => this.applyNow(batch.upsert ?? [], batch.remove ?? [], false));
  }

  sync(desired: readonly DesiredSession[]): Promise<ApplyResult> {
    return this.queue.run(() => this.applyNow(desired, [], true));
  }

  observe(): Promise<ObservedSession[]> {
    return this.queue.run(() => this.observeNow());
  }

  /** The protocol name BIRD knows a session by (for `birdc` and logs). */
  protocolOf(key: string): string {
    let name = this.names.get(key);
    if (name === undefined) {
      name = protocolName(key);
      this.names.set(key, name);
    }
    return name;
  }

  /** The file that holds a session's configuration. */
  fileOf(key: string): string {
    return this.files.pathOf(shardOf(this.protocolOf(key)));
  }

  private async loaded(): Promise<Map<string, SessionBlock>> {
    this.current ??= await this.files.load();
    return this.current;
  }

  private async applyNow(
    upserts: readonly DesiredSession[],
    removals: readonly string[],
    removeOthers: boolean,
  ): Promise<ApplyResult> {
    const current = await this.loaded();
    const next = new Map(current);
    const changed = new Map<string, string>(); // protocol name -> key
    const fingerprints = new Map<string, string>();
    const outcomes: SessionOutcome[] = [];

    for (const requested of upserts) {
      const name = this.protocolOf(requested.key);
      const fingerprint = JSON.stringify(requested);
      const accepted = this.accepted.get(requested.key) === fingerprint;
      if (accepted && !changed.has(name) && next.get(name)?.key === requested.key) {
        outcomes.push({ key: requested.key, outcome: 'configured', change: 'unchanged' });
        continue;
      }
      const session = validateDesiredSession(withSessionDefaults(requested, this.options.sessionDefaults));
      if (session instanceof PeeringError) {
        outcomes.push({ key: requested.key, outcome: 'rejected', error: session });
        continue;
      }
      const before = next.get(name);
      if (before !== undefined && before.key !== session.key) {
        outcomes.push({
          key: session.key,
          outcome: 'rejected',
          error: collision(session.key, before.key, name),
        });
        continue;
      }
      fingerprints.set(session.key, fingerprint);
      const text = renderSession(session, { strictBind: this.strictBind });
      if (before?.text === text) {
        outcomes.push({ key: session.key, outcome: 'configured', change: 'unchanged' });
        continue;
      }
      next.set(name, { key: session.key, text });
      changed.set(name, session.key);
      outcomes.push({
        key: session.key,
        outcome: 'configured',
        change: before === undefined ? 'created' : 'updated',
      });
    }

    const removeKeys = [...removals];
    if (removeOthers) {
      const wanted = new Set(upserts.map((s) => s.key));
      for (const block of current.values()) if (!wanted.has(block.key)) removeKeys.push(block.key);
    }
    for (const key of removeKeys) {
      const name = this.protocolOf(key);
      if (next.get(name)?.key !== key) {
        outcomes.push({ key, outcome: 'removed', change: 'absent' });
        continue;
      }
      next.delete(name);
      changed.set(name, key);
      outcomes.push({ key, outcome: 'removed', change: 'removed' });
    }

    if (changed.size === 0 && !this.reloadOwed) {
      for (const [key, fingerprint] of fingerprints) this.accepted.set(key, fingerprint);
      return { sessions: outcomes, reloaded: false };
    }
    const refused = await this.reload(current, next, changed);
    this.current = next;
    for (const [key, fingerprint] of fingerprints) this.accepted.set(key, fingerprint);
    for (const key of removeKeys) this.accepted.delete(key);
    const sessions = outcomes.map((outcome): SessionOutcome => {
      const error = refused.get(this.protocolOf(outcome.key));
      if (!error || outcome.outcome === 'rejected') return outcome;
      this.accepted.delete(outcome.key);
      return { key: outcome.key, outcome: 'rejected', error };
    });
    return { sessions, reloaded: true };
  }

  /**
   * Writes the shards that changed from `current` to `next`, has BIRD check them, then load them. A refusal BIRD
   * pins on a changed session (its file and line) puts that session back as it was in `next` and tries again;
   * the sessions refused that way are returned by protocol name. Any other failure rewrites the shards from
   * `current` and throws.
   */
  private async reload(
    current: ReadonlyMap<string, SessionBlock>,
    next: Map<string, SessionBlock>,
    changed: ReadonlyMap<string, string>,
  ): Promise<Map<string, PeeringError>> {
    const refused = new Map<string, PeeringError>();
    const limit = this.options.maxRefusedPerBatch ?? 5;
    const shards = new Set([...changed.keys()].map(shardOf));
    try {
      await this.files.write(next, shards);
      const bird = await BirdControlSocket.open(this.options.socketPath, {
        timeoutMs: this.options.commandTimeoutMs,
      });
      try {
        for (;;) {
          const check = await bird.command('configure check');
          if (check.code === REPLY.CONFIGURATION_OK) break;
          const culprit = this.blame(check, next);
          if (culprit === undefined || !changed.has(culprit)) {
            const where = culprit && next.get(culprit)?.key;
            throw configurationRefused(
              check,
              where ? `in session ${where}, which this batch did not change` : '',
            );
          }
          if (refused.size >= limit) throw configurationRefused(check, `after ${limit} refused sessions`);
          refused.set(culprit, sessionRefused(changed.get(culprit) ?? culprit, check));
          const previous = current.get(culprit);
          if (previous) next.set(culprit, previous);
          else next.delete(culprit);
          await this.files.write(next, new Set([shardOf(culprit)]));
        }
        const configure = await bird.command('configure');
        if (!reconfigurationAccepted(configure)) throw configurationRefused(configure, '');
      } finally {
        bird.close();
      }
    } catch (error) {
      await this.files.write(current, shards);
      // BIRD may have loaded the new files before the connection failed: reload on the next batch in any case.
      this.reloadOwed = true;
      throw error;
    }
    this.reloadOwed = false;
    return refused;
  }

  /** The protocol BIRD's refusal points at: `…/sessions-3f.conf:12:5 syntax error…` names shard and line. */
  private blame(reply: BirdReply, state: ReadonlyMap<string, SessionBlock>): string | undefined {
    const where = /sessions-([0-9a-f]{2})\.conf:(\d+)/.exec(replyText(reply));
    if (!where?.[1] || !where[2]) return undefined;
    return this.files.protocolAt(state, where[1], Number(where[2]));
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
      const key = this.keyOfProtocol(protocol, current);
      if (key !== undefined) observed.set(key, observedSession(key, protocol));
    }
    for (const [name, block] of current) {
      if (observed.has(block.key)) continue;
      observed.set(block.key, {
        key: block.key,
        protocol: name,
        state: 'unknown',
        lastError: `BIRD does not run ${name}: is "${this.files.dir}/*.conf" included by its main configuration?`,
        routes: { imported: 0, exported: 0 },
      });
    }
    return [...observed.values()];
  }

  /**
   * The key a protocol of ours belongs to. The description carries it; it counts only if it also names the
   * protocol (so a protocol someone else called `po_…` is not mistaken for ours). Failing that, the files say.
   */
  private keyOfProtocol(
    protocol: BirdProtocolStatus,
    current: ReadonlyMap<string, SessionBlock>,
  ): string | undefined {
    const described = protocol.description?.split(' ')[0];
    if (described !== undefined && this.protocolOf(described) === protocol.name) return described;
    return current.get(protocol.name)?.key;
  }
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

function configurationRefused(reply: BirdReply, note: string): PeeringError {
  const about = note === '' ? '' : ` (${note})`;
  return new PeeringError(
    'ROUTER_REJECTED',
    `BIRD refused the configuration${about}: ${lastLine(reply)}`,
    'router',
  );
}

function lastLine(reply: BirdReply): string {
  return reply.lines[reply.lines.length - 1]?.text ?? `reply code ${reply.code}`;
}
