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
import {
  configScript,
  keyOfConfig,
  keyOfDescription,
  neighborConfig,
  parseRunningConfig,
  sameNeighbor,
  type NeighborChange,
  type NeighborConfig,
} from './render.js';
import { BgpdVty, type BgpdVtyOptions } from './bgpd-vty.js';

export interface FrrRouterDriverOptions extends BgpdVtyOptions {
  /** What every session gets unless it says otherwise (the same file as BIRD's). */
  sessionDefaults?: SessionDefaults | undefined;
  /**
   * The port bgpd listens on (`bgpd -p`, default 179): FRR has one for all neighbors, so a session asking for
   * another local port cannot be configured here.
   */
  listenPort?: number | undefined;
  /**
   * A resync reads FRR's whole running configuration when what the driver knows is older than this (default
   * 60 s): that is when hand edits of our settings are put right. Batches never wait for it.
   */
  refreshMs?: number | undefined;
  now?: () => number;
}

/** Peers new to the driver it looks up one by one in a batch; more, and it reads the whole configuration. */
const LOOKUPS_PER_BATCH = 20;

/** A neighbor as `show bgp neighbors json` reports it (the fields the driver reads). */
interface FrrNeighbor {
  remoteAs?: number;
  localAs?: number;
  nbrDesc?: string;
  bgpState?: string;
  adminShutDown?: boolean;
  bgpTimerUpEstablishedEpoch?: number;
  lastNotificationReason?: string;
  lastResetDueTo?: string;
  addressFamilyInfo?: Record<string, { acceptedPrefixCounter?: number; sentPrefixCounter?: number }>;
}

/**
 * The {@link RouterDriver} for FRRouting's bgpd: one neighbor per session under `router bgp`, described
 * `po <key>` (how the driver tells its neighbors from everyone else's); changes go in as one configuration script
 * per batch, on bgpd's vty socket (no vtysh needed), that touches those neighbors only (and one deny-all route-map for sessions without a filter); BGP state
 * comes from `show bgp neighbors json`.
 *
 * FRR applies a script line by line and has no transaction for BGP: when it refuses any line, the driver sends
 * the reverse of the whole batch (every neighbor back to what it was) and throws `ROUTER_REJECTED` with FRR's
 * words. A neighbor of the same address that is not ours is never touched: that session is `rejected`.
 *
 * @example
 * const router = new FrrRouterDriver({ vtySocketDir: '/run/frr', sessionDefaults: { importFilter: 'peer_in' } });
 * await router.apply({ upsert: [desiredSession(terms)] });
 */
export class FrrRouterDriver implements RouterDriver {
  private readonly vty: BgpdVty;
  /** What runs, as last read and changed since by this driver (see {@link FrrRouterDriver.knownRunning}). */
  private cache:
    { asn: number; ours: Map<string, NeighborConfig>; foreign: Set<string>; readAt: number } | undefined;
  private readonly clock: () => number;
  /** Keys this driver configured (reported `unknown` when FRR stops running them). */
  private readonly managed = new Set<string>();
  private readonly queue = new OneAtATime();

  constructor(private readonly options: FrrRouterDriverOptions = {}) {
    this.vty = new BgpdVty(options);
    this.clock = options.now ?? Date.now;
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

  /**
   * FRR's running configuration (when, see {@link FrrRouterDriver.knownRunning}): the router's ASN, our neighbors
   * by key (a batch is the difference from what runs, so a hand edit of a setting we write is put right, and a
   * restarted driver edits rather than replaces), and the addresses of neighbors that are not ours (never
   * touched).
   */
  private async readRunning(): Promise<{
    asn: number;
    ours: Map<string, NeighborConfig>;
    foreign: Set<string>;
    readAt: number;
  }> {
    const readAt = this.clock();
    const running = parseRunningConfig(await this.vty.command('show running-config'));
    if (running.asn === undefined) {
      throw new PeeringError(
        'ROUTER_REJECTED',
        'FRR runs no "router bgp <ASN>" (in its default VRF): configure the router before its sessions',
        'router',
      );
    }
    const ours = new Map<string, NeighborConfig>();
    const foreign = new Set<string>();
    for (const [peer, config] of running.neighbors) {
      const key = keyOfConfig(config);
      if (key === undefined) foreign.add(peer);
      else ours.set(key, config);
    }
    return { asn: running.asn, ours, foreign, readAt };
  }

  /**
   * What runs, for a batch. A resync reads the whole running configuration when what is known is older than
   * `refreshMs` (it puts hand edits of our settings right); any batch reads it when nothing is known yet or many
   * peers are new to the driver: FRR takes seconds to print the configuration of thousands of neighbors, and a
   * change of one session must not wait for that. A peer new to the driver is looked up on its own, so that a
   * neighbor someone else configured meanwhile is still never touched; a refused or failed batch forgets
   * everything, and the next reads it all again.
   */
  private async knownRunning(
    upserts: readonly DesiredSession[],
    full: boolean,
  ): Promise<{ asn: number; ours: Map<string, NeighborConfig>; foreign: Set<string> }> {
    const known = this.cache;
    const knownPeers = new Set<string>();
    for (const config of known?.ours.values() ?? []) knownPeers.add(config.peerIp);
    const unknown = upserts.filter((s) => !knownPeers.has(s.peerIp) && !known?.foreign.has(s.peerIp));
    const stale = known !== undefined && this.clock() - known.readAt > (this.options.refreshMs ?? 60_000);
    if ((full && stale) || !known || unknown.length > LOOKUPS_PER_BATCH) {
      this.cache = await this.readRunning();
      return this.cache;
    }
    for (const session of unknown) {
      const found = await this.vty.json<Record<string, FrrNeighbor>>(
        `show bgp neighbors ${session.peerIp} json`,
      );
      const neighbor = found[session.peerIp];
      if (neighbor === undefined) continue;
      if (keyOfDescription(neighbor.nbrDesc) === undefined) known.foreign.add(session.peerIp);
      else {
        // One of ours the driver does not know line by line: the whole configuration says how it runs.
        this.cache = await this.readRunning();
        return this.cache;
      }
    }
    return known;
  }

  private async neighbors(): Promise<Record<string, FrrNeighbor>> {
    return this.vty.json<Record<string, FrrNeighbor>>('show bgp neighbors json');
  }

  private async applyNow(
    upserts: readonly DesiredSession[],
    removals: readonly string[],
    removeOthers: boolean,
  ): Promise<ApplyResult> {
    const { asn, ours, foreign } = await this.knownRunning(upserts, removeOthers);
    const outcomes: SessionOutcome[] = [];
    const changes: NeighborChange[] = [];
    /** Each changed neighbor's configuration after the batch (undefined: removed), by key. */
    const next = new Map<string, NeighborConfig | undefined>();
    const peers = new Map<string, string>();
    for (const [key, config] of ours) peers.set(config.peerIp, key);
    const configured: string[] = [];

    for (const requested of upserts) {
      const session = this.validate(
        withSessionDefaults(requested, this.options.sessionDefaults),
        asn,
        peers,
        foreign,
      );
      if (session instanceof PeeringError) {
        outcomes.push({ key: requested.key, outcome: 'rejected', error: session });
        continue;
      }
      const config = neighborConfig(session);
      peers.set(config.peerIp, session.key);
      configured.push(session.key);
      const before = ours.get(session.key);
      if (before && sameNeighbor(before, config)) {
        outcomes.push({ key: session.key, outcome: 'configured', change: 'unchanged' });
        continue;
      }
      changes.push({ before, after: config });
      next.set(session.key, config);
      outcomes.push({ key: session.key, outcome: 'configured', change: before ? 'updated' : 'created' });
    }

    const removeKeys = [...removals];
    if (removeOthers) {
      const wanted = new Set(upserts.map((s) => s.key));
      for (const key of ours.keys()) if (!wanted.has(key)) removeKeys.push(key);
    }
    for (const key of removeKeys) {
      const before = ours.get(key);
      if (before === undefined) {
        outcomes.push({ key, outcome: 'removed', change: 'absent' });
        continue;
      }
      changes.push({ before });
      next.set(key, undefined);
      outcomes.push({ key, outcome: 'removed', change: 'removed' });
    }

    if (changes.length > 0) {
      const result = await this.vty.script(configScript(asn, changes)).catch((error: unknown) => {
        this.cache = undefined;
        throw error;
      });
      if (!result.ok) {
        // What runs is no longer certain: the next batch reads it again.
        this.cache = undefined;
        // Every neighbor of the batch back to what it was; what FRR refused is the batch's error.
        const undo = changes.map((c) => ({ before: c.after, after: c.before }));
        const rollback = await this.vty.script(configScript(asn, undo)).catch((error: unknown) => ({
          ok: false,
          errors: [String(error)],
        }));
        throw new PeeringError(
          'ROUTER_REJECTED',
          `FRR refused the batch (${result.errors.slice(0, 3).join('; ')})${
            rollback.ok
              ? '; every neighbor of it was put back'
              : `; putting it back failed too: ${rollback.errors[0]}`
          }`,
          'router',
        );
      }
    }
    // What runs now, for the next batch.
    for (const [key, config] of next) {
      if (config) ours.set(key, config);
      else ours.delete(key);
    }
    for (const key of configured) this.managed.add(key);
    for (const key of removeKeys) this.managed.delete(key);
    return { sessions: outcomes, reloaded: changes.length > 0 };
  }

  /** The schema's rules, then what FRR cannot do: another ASN, another listen port, a foreign or taken neighbor. */
  private validate(
    session: DesiredSession,
    asn: number,
    peers: ReadonlyMap<string, string>,
    foreign: ReadonlySet<string>,
  ): DesiredSession | PeeringError {
    const valid = validateDesiredSession(session);
    if (valid instanceof PeeringError) return valid;
    const field = (name: string, message: string) =>
      new PeeringError('INVALID_FIELD', `${name}: ${message}`, `sessions[${session.key}].${name}`);
    if (session.localAsn !== asn) {
      return field(
        'localAsn',
        `this FRR runs router bgp ${asn}; AS${session.localAsn} needs a router of its own`,
      );
    }
    const port = this.options.listenPort ?? 179;
    if (session.localPort !== undefined && session.localPort !== port) {
      return field(
        'localPort',
        `FRR listens on ${port} for every neighbor (bgpd -p), not ${session.localPort}`,
      );
    }
    if (foreign.has(session.peerIp)) {
      return field(
        'peerIp',
        `FRR already has neighbor ${session.peerIp}, not configured by peering-operator`,
      );
    }
    const other = peers.get(session.peerIp);
    if (other !== undefined && other !== session.key) {
      return field('peerIp', `FRR has one neighbor per address, and ${session.peerIp} is session ${other}'s`);
    }
    return session;
  }

  private async observeNow(): Promise<ObservedSession[]> {
    const neighbors = await this.neighbors();
    const observed = new Map<string, ObservedSession>();
    for (const [peer, neighbor] of Object.entries(neighbors)) {
      const key = keyOfDescription(neighbor.nbrDesc);
      if (key !== undefined) observed.set(key, observedSession(key, peer, neighbor));
    }
    // A neighbor of ours that runs or vanished without this driver knowing (someone else's hands): what the driver
    // knows of the configuration is stale, and the next batch reads it again.
    const cached = this.cache?.ours;
    if (
      cached &&
      ([...observed.keys()].some((k) => !cached.has(k)) || [...cached.keys()].some((k) => !observed.has(k)))
    ) {
      this.cache = undefined;
    }
    for (const key of this.managed) {
      if (observed.has(key)) continue;
      observed.set(key, {
        key,
        protocol: '',
        state: 'unknown',
        lastError: 'configured by peering-operator, but FRR does not run it (was bgpd restarted without it?)',
        routes: { imported: 0, exported: 0 },
      });
    }
    return [...observed.values()];
  }
}

const FRR_STATES: Record<string, BgpState> = {
  idle: 'idle',
  connect: 'connect',
  active: 'active',
  opensent: 'opensent',
  openconfirm: 'openconfirm',
  established: 'established',
  clearing: 'idle',
  deleted: 'down',
};

/** One neighbor of ours in the driver's words. */
export function observedSession(key: string, peer: string, neighbor: FrrNeighbor): ObservedSession {
  const state = neighbor.adminShutDown
    ? 'down'
    : (FRR_STATES[(neighbor.bgpState ?? '').toLowerCase()] ?? 'unknown');
  let imported = 0;
  let exported = 0;
  for (const family of Object.values(neighbor.addressFamilyInfo ?? {})) {
    imported += family.acceptedPrefixCounter ?? 0;
    exported += family.sentPrefixCounter ?? 0;
  }
  const lastError = neighbor.lastNotificationReason ?? neighbor.lastResetDueTo;
  const since =
    state === 'established' && neighbor.bgpTimerUpEstablishedEpoch
      ? new Date(neighbor.bgpTimerUpEstablishedEpoch * 1000)
      : undefined;
  return {
    key,
    protocol: peer,
    state,
    ...(since ? { since } : {}),
    ...(lastError && state !== 'established' ? { lastError } : {}),
    routes: { imported, exported },
  };
}
