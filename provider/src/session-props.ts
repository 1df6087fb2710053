import { z } from 'zod';
import { PeeringError, type FieldError } from '../../controller/src/domain/errors.js';
import type { Location, LocationInputSchema } from '../../controller/src/domain/location.js';
import { ClientRequestIdSchema, type BgpRole } from '../../controller/src/domain/session.js';
import { SessionInputSchema } from '../../controller/src/domain/session-wire.js';
import { PeeringRequestSpecSchema } from '../../controller/src/operator/resources/peering-request.js';
import { fieldPath } from '../../controller/src/receiver/issues.js';
import { propPathOfSpecPath, requestSpec } from './manifests.js';

/**
 * How a session is kept in Terraform: our provider's `peering_session` (default: reads, drift, delete on removal,
 * import), or, for users who cannot install a provider, the built-in `terraform_data` or the null provider's
 * `null_resource` running `peeringctl` (create and destroy only: see docs/terraform.md for their hazards).
 */
export type SessionBacking = 'peering_session' | 'terraform_data' | 'null_resource';

/** The statuses `waitForStatus` can wait for (the provider's `wait_for_status`). */
export type WaitableStatus = 'approved' | 'configured' | 'established';

/**
 * The terms of one session, in this network's reading: `local` is us (the network running Terraform, the
 * initiator), `peer` is the network whose Peering API `apiUrl` points at.
 */
export interface SessionTermsProps {
  /** `pdb:ix:<PeeringDB ix id>` for an exchange, `pdb:fac:<facility id>` for a private interconnect. */
  readonly location: z.input<typeof LocationInputSchema>;
  /** Our address on the session. */
  readonly localIp: string;
  /** The peer's address on the session. */
  readonly peerIp: string;
  /** Our RFC 9234 role: 0 Provider, 1 Route Server, 2 RS Client, 3 Customer, 4 Peer. Give both roles or neither. */
  readonly localBgpRole?: BgpRole;
  /** The peer's RFC 9234 role; with `localBgpRole` it must be role-correct. */
  readonly peerBgpRole?: BgpRole;
  /**
   * The NAME of the session's MD5/TCP-AO secret when Terraform runs; the secret itself never enters the Terraform
   * configuration or state. With `peering_session` it is an ephemeral Terraform variable of that name, set as
   * `TF_VAR_<secretEnv>`, passed to the write-only `session_secret`; with the peeringctl backings it is an
   * environment variable of that name.
   */
  readonly secretEnv?: string;
  /**
   * `peering_session` only: change it (1, 2, …) to send a new secret. Terraform cannot see a write-only value
   * change, and the API cannot change a secret in place, so a new version replaces the session. Default 1 when
   * `secretEnv` is set.
   */
  readonly secretVersion?: number;
  /**
   * Retire the session: it stays in the code so that Terraform still knows how to de-peer it, and the next
   * apply de-peers it (the resource gets `count = 0`). Remove it from the code after that apply.
   */
  readonly decommissioned?: boolean;
}

/** Who peers with whom, and where to ask. */
export interface PeerProps {
  /** Our ASN. */
  readonly localAsn: number;
  /** The peer's ASN. */
  readonly peerAsn: number;
  /** The peer's Peering API base URL, base path included, e.g. `https://peering.example.net/v0.1`. */
  readonly apiUrl: string;
  /**
   * The NAME of the bearer token for this peer's API when Terraform runs; never the token itself. With
   * `peering_session` it is an ephemeral Terraform variable of that name (`TF_VAR_<tokenEnv>`), given to a
   * `peering` provider configuration of its own; with the peeringctl backings an environment variable of that
   * name. When absent: `PEERING_API_TOKEN` (or, for peeringctl, `peeringctl login`).
   */
  readonly tokenEnv?: string;
}

/** How the construct runs `peeringctl` and which Terraform resource backs each session. */
export interface RunnerProps {
  /**
   * `peering_session` (default: our provider, peering-operator/peering), or `terraform_data` (built into
   * Terraform) or `null_resource` (needs hashicorp/null), which run peeringctl and cannot read or import.
   */
  readonly backing?: SessionBacking;
  /** `peering_session` only: an apply ends only when the session is at least this far (e.g. `established`). */
  readonly waitForStatus?: WaitableStatus;
  /** How long `waitForStatus` waits, a Go duration such as `30m`; default 10m. */
  readonly waitTimeout?: string;
  /**
   * The command that runs peeringctl, as an argument vector (no shell parsing), e.g.
   * `['/usr/local/bin/peeringctl']`. Default: `$PEERINGCTL` at synth time, else `node <this package>/dist/
   * controller/src/cli/peeringctl.js`.
   */
  readonly peeringctl?: readonly string[];
}

/** Props of a `PeeringSession`: one session with one peer. */
export interface PeeringSessionProps extends PeerProps, SessionTermsProps, RunnerProps {}

/** One session of a `PeeringRequest`; `name` is its stable handle in Terraform (part of the resource name). */
export interface RequestedSessionProps extends SessionTermsProps {
  readonly name: string;
}

/** Props of a `PeeringRequest`: a set of sessions with one peer. */
export interface PeeringRequestProps extends PeerProps, RunnerProps {
  readonly sessions: readonly RequestedSessionProps[];
}

/** A session after validation: canonical addresses, the location object, defaults applied. */
export interface ValidSession {
  readonly localAsn: number;
  readonly peerAsn: number;
  readonly apiUrl: string;
  readonly tokenEnv?: string | undefined;
  readonly location: Location;
  readonly localIp: string;
  readonly peerIp: string;
  readonly localBgpRole?: BgpRole | undefined;
  readonly peerBgpRole?: BgpRole | undefined;
  readonly secretEnv?: string | undefined;
  readonly secretVersion?: number | undefined;
  readonly decommissioned: boolean;
  readonly backing: SessionBacking;
  readonly waitForStatus?: WaitableStatus | undefined;
  readonly waitTimeout?: string | undefined;
  readonly peeringctl?: readonly string[] | undefined;
}

export interface ValidRequestedSession extends ValidSession {
  readonly name: string;
}

// Props are checked twice, with schemas owned elsewhere, and every issue is reported under the prop's name:
// 1. each session's terms with the API's own wire schema (SessionInputSchema), which also canonicalises the
//    addresses and the location;
// 2. the whole peering as the operator's PeeringRequest spec (PeeringRequestSpecSchema), whose cross-field
//    rules (address families, RFC 9234 roles, distinct ASNs, at most 100 sessions) are the CRD's CEL rules.
// Only what neither carries (how to call from Terraform, secrets by variable name) has a schema here.
const WIRE_FIELD_TO_PROP: Record<string, string> = {
  local_asn: 'localAsn',
  peer_asn: 'peerAsn',
  local_ip: 'localIp',
  peer_ip: 'peerIp',
  local_bgp_role: 'localBgpRole',
  peer_bgp_role: 'peerBgpRole',
  location: 'location',
};

/** A POSIX environment variable name: what a shell can export and `printenv` can read. */
const EnvNameSchema = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]{0,127}$/,
    'must be the NAME of an environment variable (A-Z, 0-9, _), not a value',
  );

const ApiUrlSchema = z
  .string()
  .max(2048)
  .refine((value) => /^https?:\/\/[^\s/]+/.test(value) && URL.canParse(value), {
    message: 'must be an http(s) URL, base path included, e.g. https://peering.example.net/v0.1',
  });

const PeerOnlySchema = z
  .object({
    apiUrl: ApiUrlSchema,
    tokenEnv: EnvNameSchema.optional(),
    backing: z.enum(['peering_session', 'terraform_data', 'null_resource']).default('peering_session'),
    peeringctl: z.array(z.string().min(1)).min(1).readonly().optional(),
    waitForStatus: z.enum(['approved', 'configured', 'established']).optional(),
    // A Go duration, as the provider reads it.
    waitTimeout: z
      .string()
      .regex(/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/, 'must be a duration such as 30m or 1h30m')
      .optional(),
  })
  .superRefine((peer, context) => {
    if (peer.backing === 'peering_session') return;
    for (const key of ['waitForStatus', 'waitTimeout'] as const) {
      if (peer[key] !== undefined)
        context.addIssue({
          code: 'custom',
          path: [key],
          message: `needs backing peering_session (${peer.backing} cannot read a session's status)`,
        });
    }
  });

const SessionOnlySchema = z
  .object({
    secretEnv: EnvNameSchema.optional(),
    secretVersion: z.number().int().min(1).max(1_000_000).optional(),
    decommissioned: z.boolean().default(false),
  })
  .refine((own) => own.secretVersion === undefined || own.secretEnv !== undefined, {
    path: ['secretVersion'],
    message: 'versions a secret: give secretEnv too',
  });

// A name becomes part of a Terraform resource name and a construct id.
const SessionNameSchema = ClientRequestIdSchema.refine((name) => /[A-Za-z0-9]/.test(name), {
  message: 'must contain a letter or digit',
});

/** The props that describe one session, wherever it is declared (a PeeringSession, or inside a PeeringRequest). */
const TERMS_KEYS = [
  'location',
  'localIp',
  'peerIp',
  'localBgpRole',
  'peerBgpRole',
  'secretEnv',
  'secretVersion',
  'decommissioned',
] as const;
const SESSION_KEYS = [
  'localAsn',
  'peerAsn',
  'apiUrl',
  'tokenEnv',
  ...TERMS_KEYS,
  'backing',
  'peeringctl',
  'waitForStatus',
  'waitTimeout',
] as const;
const PEER_KEYS = [
  'localAsn',
  'peerAsn',
  'apiUrl',
  'tokenEnv',
  'backing',
  'peeringctl',
  'waitForStatus',
  'waitTimeout',
  'sessions',
] as const;
const REQUESTED_SESSION_KEYS = ['name', ...TERMS_KEYS] as const;

/** Objects this module produced: valid by construction, never re-checked. */
const validated = new WeakSet<object>();

type Issue = { path: (string | number)[]; message: string; missing: boolean };

/**
 * Validates the props of one session with the Peering API's wire schema and, as a one-session request, with the
 * operator's PeeringRequest schema and its cross-field rules. Throws a `PeeringError` (`INVALID_FIELD` /
 * `MISSING_FIELD`) whose message names the construct (`where`) and every bad field.
 *
 * @example
 * validateSessionProps({ localAsn: 64500, peerAsn: 64501, apiUrl: 'https://peering.example.net/v0.1',
 *   location: 'pdb:ix:26', localIp: '192.0.2.1', peerIp: '192.0.2.2' }, 'PeeringSession app/stack/v4');
 */
export function validateSessionProps(props: PeeringSessionProps, where: string): ValidSession {
  // A PeeringRequest hands its sessions over already checked (as a whole); checking each again would double
  // the synth time of large configurations for nothing.
  if (validated.has(props)) return props as ValidSession;
  const issues: Issue[] = [];
  const session = checkSession(props, issues, [], SESSION_KEYS);
  const peer = checkPeer(props, issues, []);
  if (session === undefined || peer === undefined || issues.length > 0) throw propsError(where, issues);
  const valid = { ...peer, ...session };
  // A lone session is checked as a one-session request; `sessions[0].x` is reported as `x`.
  checkAsResource([valid], issues, (path) => (path[0] === 'sessions' ? path.slice(2) : path));
  if (issues.length > 0) throw propsError(where, issues);
  validated.add(valid);
  return valid;
}

/**
 * Validates a `PeeringRequest`: the peer, then every session under `sessions[i]`; all problems are reported
 * at once.
 */
export function validateRequestProps(props: PeeringRequestProps, where: string): ValidRequestedSession[] {
  const issues: Issue[] = [];
  const raw = props as unknown as Record<string, unknown>;
  unknownKeys(raw, PEER_KEYS, [], issues);
  const peer = checkPeer(props, issues, []);
  // The ASNs sit on the request; they are checked here, once, with the wire's own field schemas.
  for (const [prop, schema] of [
    ['localAsn', SessionInputSchema.shape.local_asn],
    ['peerAsn', SessionInputSchema.shape.peer_asn],
  ] as const) {
    const parsed = schema.safeParse(raw[prop]);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        issues.push({ path: [prop], message: describeIssue(issue), missing: raw[prop] === undefined });
      }
    }
  }
  const sessions = raw.sessions;
  if (!Array.isArray(sessions)) {
    issues.push({
      path: ['sessions'],
      message: 'must be a list of sessions',
      missing: sessions === undefined,
    });
    throw propsError(where, issues);
  }
  const out: ValidRequestedSession[] = [];
  const names = new Map<string, number>();
  sessions.forEach((entry: unknown, index) => {
    const path = ['sessions', index];
    if (typeof entry !== 'object' || entry === null) {
      issues.push({ path, message: 'must be an object', missing: false });
      return;
    }
    const item = entry as Record<string, unknown>;
    const name = SessionNameSchema.safeParse(item.name);
    if (!name.success) {
      for (const issue of name.error.issues) {
        issues.push({ path: [...path, 'name'], message: issue.message, missing: item.name === undefined });
      }
    } else if (names.has(name.data.toLowerCase())) {
      issues.push({
        path: [...path, 'name'],
        message: `"${name.data}" is already the name of sessions[${names.get(name.data.toLowerCase())}]`,
        missing: false,
      });
    } else {
      names.set(name.data.toLowerCase(), index);
    }
    const terms = checkSession(
      { ...item, localAsn: props.localAsn, peerAsn: props.peerAsn },
      issues,
      path,
      [...REQUESTED_SESSION_KEYS, 'localAsn', 'peerAsn'],
      // The request's ASNs are reported once, on the request, not once per session.
      ['localAsn', 'peerAsn'],
    );
    if (terms !== undefined && name.success && peer !== undefined)
      out.push({ ...peer, ...terms, name: name.data });
  });
  if (issues.length > 0 || peer === undefined) throw propsError(where, issues);
  if (out.length === 0)
    issues.push({ path: ['sessions'], message: 'must list at least one session', missing: false });
  else checkAsResource(out, issues, (path) => path);
  if (issues.length > 0) throw propsError(where, issues);
  for (const session of out) validated.add(session);
  return out;
}

/** Validates a construct-level session name (a construct id or a `sessions[i].name`). */
export function validateSessionName(name: string, where: string): string {
  const parsed = SessionNameSchema.safeParse(name);
  if (parsed.success) return parsed.data;
  throw propsError(
    where,
    parsed.error.issues.map((issue) => ({ path: ['id'], message: issue.message, missing: false })),
  );
}

type SessionPart = Omit<ValidSession, keyof z.output<typeof PeerOnlySchema>>;

function checkSession(
  props: object,
  issues: Issue[],
  prefix: (string | number)[],
  allowed: readonly string[],
  inherited: readonly string[] = [],
): SessionPart | undefined {
  const raw = props as Record<string, unknown>;
  unknownKeys(raw, allowed, prefix, issues);
  const wire = SessionInputSchema.safeParse({
    local_asn: raw.localAsn,
    peer_asn: raw.peerAsn,
    local_ip: raw.localIp,
    peer_ip: raw.peerIp,
    local_bgp_role: raw.localBgpRole,
    peer_bgp_role: raw.peerBgpRole,
    location: raw.location,
  });
  const own = SessionOnlySchema.safeParse({
    secretEnv: raw.secretEnv,
    secretVersion: raw.secretVersion,
    decommissioned: raw.decommissioned,
  });
  if (!wire.success) {
    for (const issue of wire.error.issues) {
      const [head, ...rest] = issue.path;
      const prop = WIRE_FIELD_TO_PROP[String(head)] ?? String(head);
      if (inherited.includes(prop)) continue;
      issues.push({
        path: [...prefix, prop, ...(rest as (string | number)[])],
        message: describeIssue(issue),
        missing: raw[prop] === undefined,
      });
    }
  }
  if (!own.success) {
    for (const issue of own.error.issues) {
      issues.push({
        path: [...prefix, ...(issue.path as (string | number)[])],
        message: issue.message,
        missing: false,
      });
    }
  }
  if (!wire.success || !own.success) return undefined;
  const terms = wire.data;
  return {
    localAsn: terms.local_asn,
    peerAsn: terms.peer_asn,
    location: terms.location,
    localIp: terms.local_ip,
    peerIp: terms.peer_ip,
    localBgpRole: terms.local_bgp_role,
    peerBgpRole: terms.peer_bgp_role,
    secretEnv: own.data.secretEnv,
    secretVersion: own.data.secretVersion,
    decommissioned: own.data.decommissioned,
  };
}

function checkAsResource(
  sessions: readonly ValidSession[],
  issues: Issue[],
  toProps: (path: (string | number)[]) => (string | number)[],
): void {
  const parsed = PeeringRequestSpecSchema.safeParse(requestSpec(sessions));
  if (parsed.success) return;
  for (const issue of parsed.error.issues) {
    issues.push({
      path: toProps(propPathOfSpecPath(issue.path)),
      message: describeIssue(issue),
      missing: false,
    });
  }
}

function checkPeer(props: object, issues: Issue[], prefix: (string | number)[]) {
  const raw = props as Record<string, unknown>;
  const parsed = PeerOnlySchema.safeParse({
    apiUrl: raw.apiUrl,
    tokenEnv: raw.tokenEnv,
    backing: raw.backing,
    peeringctl: raw.peeringctl,
    waitForStatus: raw.waitForStatus,
    waitTimeout: raw.waitTimeout,
  });
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const path = issue.path as (string | number)[];
    issues.push({
      path: [...prefix, ...path],
      message: issue.message,
      missing: raw[String(path[0])] === undefined,
    });
  }
  return undefined;
}

function unknownKeys(
  raw: Record<string, unknown>,
  allowed: readonly string[],
  prefix: (string | number)[],
  issues: Issue[],
) {
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key) && raw[key] !== undefined) {
      issues.push({
        path: [...prefix, key],
        message: `is not a prop; known props: ${allowed.join(', ')}`,
        missing: false,
      });
    }
  }
}

// zod says only "Invalid input" when no branch of a union matches (a role, a location): say what would have.
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'invalid_union') return issue.message;
  const branches = issue.errors.flat();
  const sameType = branches.filter((b) => b.code !== 'invalid_type');
  const candidates = sameType.length > 0 ? sameType : branches;
  const values = candidates.flatMap((b) => (b.code === 'invalid_value' ? b.values : []));
  if (values.length === candidates.length && values.length > 0) return `must be one of ${values.join(', ')}`;
  return [...new Set(candidates.map((b) => b.message))].join('; ');
}

function propsError(where: string, issues: Issue[]): PeeringError {
  const details: FieldError[] = [];
  for (const issue of issues) {
    const name = fieldPath(issue.path);
    const message = issue.missing ? 'is required' : issue.message;
    const entry = details.find((d) => d.name === name);
    if (entry) entry.errors.push(message);
    else details.push({ name, code: issue.missing ? 'MISSING_FIELD' : 'INVALID_FIELD', errors: [message] });
  }
  const lines = details.map((d) => `  ${d.name}: ${d.errors.join('; ')}`);
  const first = details[0];
  return new PeeringError(
    first?.code ?? 'INVALID_FIELD',
    `${where} has invalid props:\n${lines.join('\n')}`,
    first?.name ?? 'request',
    { details },
  );
}
