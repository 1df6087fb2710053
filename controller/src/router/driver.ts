import { z } from 'zod';
import { parseIpAddress } from '../domain/ip.js';
import { PeeringError } from '../domain/errors.js';
import { ruleBreaches } from '../domain/session-rules.js';
import {
  AsnSchema,
  BgpRoleSchema,
  SAFE_TEXT,
  SessionSecretSchema,
  addressFamily,
  naturalKey,
  type BgpRole,
  type SessionStatus,
  type SessionTerms,
} from '../domain/session.js';
import type { Net } from '../peeringdb/records.js';

/**
 * The router driver: the one seam between the peering logic and a BGP speaker.
 *
 * Desired sessions go in (always in this network's own reading: `local` is us), the router's observed state comes
 * out. Implementations: `BirdRouterDriver` (router/bird/) for BIRD 2, and `RecordingRouterDriver`
 * (router/recording.ts), a real in-memory implementation for tests and benchmarks of the layers above.
 */
export interface RouterDriver {
  /**
   * Applies one batch of changes: `upsert` sessions are created or brought up to date, `remove` keys are
   * removed. The router is reloaded at most once per batch, and only when something changed. Sessions that
   * fail validation are reported `rejected` and leave the router untouched; when the router refuses the batch
   * as a whole, every file goes back to what it was and a `ROUTER_REJECTED` {@link PeeringError} is thrown.
   *
   * @example
   * const result = await driver.apply({ upsert: [desiredSession(terms, { maxPrefixes: 100 })] });
   * if (result.sessions[0]?.outcome === 'rejected') console.error(result.sessions[0].error.message);
   */
  apply(batch: SessionBatch): Promise<ApplyResult>;

  /**
   * Makes the router's managed sessions exactly `desired`: everything managed but not desired is removed (for
   * a resync after a restart). Same guarantees as {@link RouterDriver.apply}.
   */
  sync(desired: readonly DesiredSession[]): Promise<ApplyResult>;

  /**
   * What the router reports for every managed session (and for sessions it still runs that are being
   * removed). A session configured but not (yet) running on the router is reported with state `unknown`.
   *
   * @example
   * const byKey = new Map((await driver.observe()).map((s) => [s.key, s]));
   */
  observe(): Promise<ObservedSession[]>;
}

/** One batch of changes for {@link RouterDriver.apply}. */
export interface SessionBatch {
  upsert?: readonly DesiredSession[];
  /** Session keys ({@link DesiredSession.key}); removing an unknown key is not an error (`absent`). */
  remove?: readonly string[];
}

/** BGP timers in seconds; tests shorten them so that sessions come up and fail over in seconds. */
export interface BgpTimers {
  /** Hold time: 0 (no keepalives) or 3 to 65535. */
  hold?: number | undefined;
  keepalive?: number | undefined;
  /** Delay between connection attempts. */
  connectRetry?: number | undefined;
  /** Delay before the first connection attempt. */
  connectDelay?: number | undefined;
  /** Delay before restarting after an error: starts at `errorWaitMin`, doubles up to `errorWaitMax`. */
  errorWaitMin?: number | undefined;
  errorWaitMax?: number | undefined;
}

/**
 * Timers for labs, demos and end-to-end tests: a session comes up about a second after both ends are configured,
 * and a dead peer is noticed within three. Far too eager for a production exchange.
 */
export const FAST_BGP_TIMERS: Readonly<BgpTimers> = Object.freeze({
  hold: 3,
  keepalive: 1,
  connectRetry: 1,
  connectDelay: 1,
  errorWaitMin: 1,
  errorWaitMax: 2,
});

/**
 * One session as the router should run it, in our reading (`local` is this network).
 *
 * Build it from agreed terms with {@link desiredSession}; every field is validated again by the driver
 * ({@link DesiredSessionSchema}) because much of it comes from the other network through the API.
 */
export interface DesiredSession {
  /** The session's identity on the router: its natural key (`naturalKey(terms)`). */
  key: string;
  /** A label for people reading the router, e.g. the session id or the resource name. */
  name?: string | undefined;
  localAsn: number;
  localIp: string;
  peerAsn: number;
  peerIp: string;
  /** RFC 9234 role of this network; rendered as the BGP role capability. */
  localRole?: BgpRole | undefined;
  /** The role agreed for the other network; must be role-correct against `localRole`. */
  peerRole?: BgpRole | undefined;
  /** RFC 9234 strict mode: refuse the session when the other side announces no role. */
  requireRoles?: boolean | undefined;
  /** TCP MD5 secret (RFC 2385), at most 80 characters. */
  secret?: string | undefined;
  /**
   * Maximum number of prefixes accepted from the peer (for the session's address family), typically PeeringDB's
   * `info_prefixes4`/`info_prefixes6` ({@link maxPrefixesFor}). Absent: no limit.
   */
  maxPrefixes?: number | undefined;
  /** Name of an import filter the operator defines on the router. Absent: import nothing. */
  importFilter?: string | undefined;
  /** Name of an export filter the operator defines on the router. Absent: export nothing. */
  exportFilter?: string | undefined;
  timers?: BgpTimers | undefined;
  /** Wait for the peer to connect; never open the connection ourselves. */
  passive?: boolean | undefined;
  /** Address the router binds and connects from, when not `localIp`. Same family as `localIp`. */
  sourceAddress?: string | undefined;
  /** TCP port the router listens on for this session (default 179). */
  localPort?: number | undefined;
  /** TCP port of the peer (default 179). */
  peerPort?: number | undefined;
  /** eBGP multihop TTL (2-255); absent for a directly connected peer (the normal case at an exchange). */
  multihop?: number | undefined;
}

/** What happened to one session of a batch. */
export type SessionOutcome =
  | { key: string; outcome: 'configured'; change: 'created' | 'updated' | 'unchanged' }
  | { key: string; outcome: 'removed'; change: 'removed' | 'absent' }
  | { key: string; outcome: 'rejected'; error: PeeringError };

export interface ApplyResult {
  /** One entry per upserted or removed key, in the order given. */
  sessions: SessionOutcome[];
  /** Whether the router was reloaded for this batch. */
  reloaded: boolean;
}

/**
 * BGP finite-state-machine states (RFC 4271 §8.2.2) plus `down` (administratively down, or stopped after an
 * error) and `unknown` (configured, but the router does not run it, or reports something we cannot read).
 */
export const BGP_STATES = [
  'idle',
  'connect',
  'active',
  'opensent',
  'openconfirm',
  'established',
  'down',
  'unknown',
] as const;
export type BgpState = (typeof BGP_STATES)[number];

/** One session as the router reports it. */
export interface ObservedSession {
  key: string;
  /** The router's own name for it (a BIRD protocol name), for people and logs. */
  protocol: string;
  state: BgpState;
  /** When the router's state for it last changed, when the router says. */
  since?: Date | undefined;
  /** The router's last error for it, in its words (e.g. `Received: Bad peer AS`). */
  lastError?: string | undefined;
  routes: { imported: number; exported: number };
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const SESSION_KEY = /^[A-Za-z0-9|:._-]{1,200}$/;

const AddressSchema = z.string().refine((value) => {
  const parsed = parseIpAddress(value);
  return typeof parsed !== 'string' && parsed.address === value;
}, 'must be a plain IPv4 or IPv6 address in canonical form (no prefix length, no zone)');

const SecondsSchema = (min: number, max: number) => z.number().int().min(min).max(max).optional();

const BgpTimersSchema = z
  .object({
    hold: z
      .number()
      .int()
      .refine((v) => v === 0 || (v >= 3 && v <= 65535), 'must be 0 or 3-65535 seconds (RFC 4271 §4.2)')
      .optional(),
    keepalive: SecondsSchema(1, 65535),
    connectRetry: SecondsSchema(1, 65535),
    connectDelay: SecondsSchema(1, 65535),
    errorWaitMin: SecondsSchema(1, 65535),
    errorWaitMax: SecondsSchema(1, 65535),
  })
  .strict()
  .refine((t) => t.hold === undefined || t.keepalive === undefined || t.hold === 0 || t.keepalive < t.hold, {
    message: 'keepalive must be shorter than hold',
    path: ['keepalive'],
  })
  .refine(
    (t) => t.errorWaitMin === undefined || t.errorWaitMax === undefined || t.errorWaitMin <= t.errorWaitMax,
    { message: 'errorWaitMin must not exceed errorWaitMax', path: ['errorWaitMin'] },
  );

/**
 * The rules every driver applies to a {@link DesiredSession} before it goes anywhere near a router: canonical
 * addresses of one family, role-correct roles, filter names that are plain identifiers, text fields free of
 * quotes, backslashes and control characters. Router-specific limits come on top (see the BIRD renderer).
 */
export const DesiredSessionSchema = z
  .object({
    key: z.string().regex(SESSION_KEY, 'must be 1-200 characters of A-Z a-z 0-9 | : . _ -'),
    name: z.string().max(100).regex(SAFE_TEXT, 'must be printable ASCII without " or \\').optional(),
    localAsn: AsnSchema,
    localIp: AddressSchema,
    peerAsn: AsnSchema,
    peerIp: AddressSchema,
    localRole: BgpRoleSchema.optional(),
    peerRole: BgpRoleSchema.optional(),
    requireRoles: z.boolean().optional(),
    // The API refuses what this refuses (one rule for secrets); the driver checks again, per ADR 0004.
    secret: SessionSecretSchema.optional(),
    maxPrefixes: z.number().int().min(1).max(4294967295).optional(),
    importFilter: z
      .string()
      .regex(IDENTIFIER, 'must be an identifier: a letter or _, then letters, digits, _')
      .optional(),
    exportFilter: z
      .string()
      .regex(IDENTIFIER, 'must be an identifier: a letter or _, then letters, digits, _')
      .optional(),
    timers: BgpTimersSchema.optional(),
    passive: z.boolean().optional(),
    sourceAddress: AddressSchema.optional(),
    localPort: z.number().int().min(1).max(65535).optional(),
    peerPort: z.number().int().min(1).max(65535).optional(),
    multihop: z.number().int().min(2).max(255).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    // The domain's rules that concern a router; a lone role is fine here (our side may announce one alone).
    const subject = { ...s, localBgpRole: s.localRole, peerBgpRole: s.peerRole };
    for (const breach of ruleBreaches(subject, ['sameFamily', 'rolesCorrect'])) {
      ctx.addIssue({
        code: 'custom',
        path: [ROUTER_FIELD[breach.field] ?? breach.field],
        message: breach.message,
      });
    }
    if (s.sourceAddress !== undefined && addressFamily(s.sourceAddress) !== addressFamily(s.localIp)) {
      ctx.addIssue({
        code: 'custom',
        path: ['sourceAddress'],
        message: 'must be of the same address family as localIp',
      });
    }
    if (s.localIp === s.peerIp && (s.localPort ?? 179) === (s.peerPort ?? 179)) {
      ctx.addIssue({
        code: 'custom',
        path: ['peerIp'],
        message: 'must differ from localIp (a session to itself)',
      });
    }
    if (s.requireRoles === true && s.localRole === undefined) {
      ctx.addIssue({ code: 'custom', path: ['requireRoles'], message: 'needs localRole' });
    }
  });

/** The router's names for the terms' fields that it calls otherwise. */
const ROUTER_FIELD: Partial<Record<string, keyof DesiredSession>> = {
  localBgpRole: 'localRole',
  peerBgpRole: 'peerRole',
};

/**
 * Validates one desired session; returns it, or the first problem as an `INVALID_FIELD` error whose field names
 * the session and the field (`sessions[64501|pdb:ix:26|…].secret`).
 */
export function validateDesiredSession(session: DesiredSession): DesiredSession | PeeringError {
  const parsed = DesiredSessionSchema.safeParse(session);
  if (parsed.success) return session;
  const issue = parsed.error.issues[0];
  const path = issue?.path.map(String).join('.') || 'session';
  const key = typeof session.key === 'string' && SESSION_KEY.test(session.key) ? session.key : '?';
  return new PeeringError(
    'INVALID_FIELD',
    `${path}: ${issue?.message ?? 'invalid'}`,
    `sessions[${key}].${path}`,
  );
}

/**
 * The desired session for agreed terms (in our reading), with what the terms do not say: filters, limits,
 * timers, ports.
 *
 * @example
 * const net = await peeringDb.network(terms.peerAsn);
 * const desired = desiredSession(terms, {
 *   name: sessionId,
 *   maxPrefixes: maxPrefixesFor(net, addressFamily(terms.localIp)),
 *   importFilter: 'peer_in',
 *   exportFilter: 'peer_out',
 * });
 */
export function desiredSession(
  terms: SessionTerms,
  extra: Omit<
    DesiredSession,
    'key' | 'localAsn' | 'localIp' | 'peerAsn' | 'peerIp' | 'localRole' | 'peerRole' | 'secret'
  > = {},
): DesiredSession {
  return {
    key: naturalKey(terms),
    localAsn: terms.localAsn,
    localIp: terms.localIp,
    peerAsn: terms.peerAsn,
    peerIp: terms.peerIp,
    localRole: terms.localBgpRole,
    peerRole: terms.peerBgpRole,
    secret: terms.sessionSecret,
    ...extra,
  };
}

/**
 * The max-prefix limit for a session of `family` with network `net`: PeeringDB's recommended
 * `info_prefixes4`/`info_prefixes6`. PeeringDB stores 0 when a network did not say, so 0 and null mean unknown.
 *
 * @example
 * maxPrefixesFor({ ...net, info_prefixes4: 120 }, 'ipv4'); // 120
 */
export function maxPrefixesFor(
  net: Pick<Net, 'info_prefixes4' | 'info_prefixes6'> | undefined,
  family: 'ipv4' | 'ipv6',
): number | undefined {
  const value = family === 'ipv4' ? net?.info_prefixes4 : net?.info_prefixes6;
  return typeof value === 'number' && value > 0 ? value : undefined;
}

/**
 * The Peering API status of a session (docs/api.md §5) from what the router reports and the previous status:
 * `established` while BGP is established; `down` when it was established and is not now; otherwise
 * `configured`. A session the router does not report keeps its previous status (the caller knows why).
 *
 * @example
 * statusFromObserved(observed, 'configured'); // 'established' once BGP is up
 */
export function statusFromObserved(
  observed: ObservedSession | undefined,
  previous: SessionStatus,
): SessionStatus {
  if (observed === undefined) return previous;
  if (observed.state === 'established') return 'established';
  if (previous === 'established' || previous === 'down') return 'down';
  return 'configured';
}

/** What every session on a router gets unless it says otherwise (ports, timers, filters: router-wide choices). */
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

/**
 * A session with the router's defaults under it: what the session says wins, field by field (timers too).
 *
 * @example
 * withSessionDefaults({ ...session, timers: { hold: 9 } }, { timers: { hold: 90, keepalive: 30 } }).timers;
 * // { hold: 9, keepalive: 30 }
 */
export function withSessionDefaults(session: DesiredSession, defaults: SessionDefaults = {}): DesiredSession {
  const merged = { ...definedOnly(defaults), ...definedOnly(session) } as DesiredSession;
  if (defaults.timers && session.timers)
    merged.timers = { ...defaults.timers, ...definedOnly(session.timers) };
  return merged;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Runs a driver's operations one after the other: a daemon is not made for parallel reconfigurations, and an
 * observation must not read a half-applied batch. A failed operation does not stop the ones queued behind it.
 */
export class OneAtATime {
  private queue: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
