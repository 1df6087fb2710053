import { z } from 'zod';
import { AuthPolicySchema } from '../auth/auth-policy.js';
import { JWT_ALGORITHMS } from '../auth/jwt-verifier.js';
import { AsnSchema } from '../domain/session.js';
import { PeerApiCredentialsSchema } from '../operator/resources/peer-api.js';
import { loadValidatedYaml, parseValidated } from './validated-file.js';

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90s`, `15m`, `7d` → milliseconds. */
export const DurationSchema = z
  .string()
  .regex(DURATION, 'must be a number followed by ms, s, m, h or d, e.g. "7d"')
  .transform((text) => {
    const [, amount, unit] = DURATION.exec(text) as unknown as [string, string, keyof typeof UNIT_MS];
    return Number(amount) * UNIT_MS[unit];
  });

const HostPortSchema = z
  .string()
  .regex(
    /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/,
    'must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080',
  )
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535');

/** A network permission list as PeeringDB states it: read 1, update 2, create 4, delete 8. */
const NetworkGrantSchema = z.strictObject({ asn: AsnSchema, perms: z.number().int().min(0).max(15) });

/**
 * Static bearer tokens: for the standalone demo and tests until real issuers are configured. Each maps a token
 * (inline or from an environment variable) to an identity.
 */
const StaticTokenSchema = z
  .strictObject({
    token: z.string().min(16).optional(),
    tokenEnv: z.string().min(1).optional(),
    subject: z.string().min(1),
    email: z.string().optional(),
    networks: z.array(NetworkGrantSchema).min(1),
  })
  .refine((t) => (t.token === undefined) !== (t.tokenEnv === undefined), {
    message: 'give exactly one of token and tokenEnv',
    path: ['token'],
  });

/** https, or plain http to this machine only (a local issuer for tests and demos). */
const IssuerUrlSchema = z.url().refine(
  (url) => {
    const { protocol, hostname } = new URL(url);
    return (
      protocol === 'https:' ||
      (protocol === 'http:' && /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/.test(hostname))
    );
  },
  { message: 'must use https (plain http only to 127.0.0.1, [::1] or localhost)' },
);

/**
 * A trusted identity issuer. `jwt`: RFC 9068 access tokens verified against the issuer's published keys.
 * `peeringdb`: PeeringDB's opaque access tokens, verified by asking its `/profile/v1`. See docs/authentication.md.
 */
export const IssuerSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('jwt'),
      /** Exactly the `iss` of its tokens; its keys are found through `{issuer}/.well-known/openid-configuration`. */
      issuer: IssuerUrlSchema,
      /** The `aud` tokens must carry; default `apiUrl`. */
      audience: z.url().optional(),
      /** Where the ASNs are in the token (a dotted path); PeeringDB's shape by default. */
      networksClaim: z
        .string()
        .regex(/^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/, 'must be a claim name or a dotted path')
        .default('networks'),
      algorithms: z
        .array(
          z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']),
        )
        .min(1)
        .default(['RS256', 'ES256', 'EdDSA']),
      clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
      /** Keys are fetched again when older than this, so a key the issuer withdrew stops working. */
      jwksMaxAge: DurationSchema.prefault('10m'),
      /** At most one key-set fetch per this interval, however many unknown `kid`s arrive. */
      jwksRefreshCooldown: DurationSchema.prefault('30s'),
      timeout: DurationSchema.prefault('5s'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('peeringdb'),
      /** The host whose `/profile/v1` answers for opaque tokens (`https://auth.peeringdb.com`). */
      url: IssuerUrlSchema,
      /** How long a positive answer is reused (a revoked token keeps working at most this long). */
      cacheTtl: DurationSchema.prefault('5m'),
      /** How long the issuer's access tokens live (PeeringDB: 10 h); no answer is reused beyond that. */
      tokenLifetime: DurationSchema.prefault('10h'),
      timeout: DurationSchema.prefault('5s'),
    })
    .strict(),
]);

/** Checks of DPoP proofs (RFC 9449), for callers whose policy is `dpop` and for every DPoP-bound token. */
const DpopSchema = z
  .strictObject({
    /** Asymmetric algorithms proofs may be signed with; `none` and HMAC cannot be listed. */
    algorithms: z
      .array(z.enum(JWT_ALGORITHMS))
      .min(1)
      // Ed25519: RFC 9864's name for EdDSA over Ed25519, what panva's dpop puts in its proofs.
      .default(['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256']),
    /**
     * How far a proof's `iat` may be from our clock, either way; also how long its `jti` is remembered. Under
     * `dpop+signature`, also how old a signature's `created` may be (and how long its `nonce` is remembered).
     */
    proofWindow: DurationSchema.prefault('60s').refine(
      (ms) => ms >= 1000 && ms <= 600_000,
      'must be between 1s and 10m',
    ),
    /** Require server nonces in proofs (RFC 9449 §8). */
    nonces: z.boolean().default(false),
    /**
     * Whose nonces a proof may carry. `shared`: every replica's (derived from the shared page-token key), so a
     * client may move between replicas freely. `replica`: only the nonces of the replica answering (a key of
     * each process's own): a proof captured at one replica is refused by every other, and its own replay cache
     * refuses it there, so replicas need no shared replay cache. Pair it with client affinity
     * (`service.sessionAffinity: ClientIP` in the chart), or clients moved between replicas pay a nonce retry.
     */
    nonceScope: z.enum(['shared', 'replica']).default('shared'),
    /** How long a nonce stays current; a proof may carry the current or the previous one. */
    nonceLifetime: DurationSchema.prefault('5m'),
    /** Proofs remembered against replay (per server process; the oldest go first past this). */
    replayCacheEntries: z.number().int().min(1000).max(10_000_000).default(100_000),
  })
  .refine((dpop) => dpop.nonceScope === 'shared' || dpop.nonces, {
    message: 'nonceScope replica needs nonces: true (it scopes the nonces proofs must carry)',
    path: ['nonceScope'],
  })
  .prefault({});

export const ConfigSchema = z
  .object({
    /** The ASNs this network peers as. */
    asns: z.array(AsnSchema).min(1),
    /** The public URL of our Peering API, base path included: also the audience of JWT access tokens. */
    apiUrl: z.url(),
    listen: HostPortSchema.default('127.0.0.1:8080'),
    basePath: z
      .string()
      .regex(/^(\/[A-Za-z0-9._~-]+)*$/, 'must be empty or start with / and contain no trailing /')
      .default('/v0.1'),
    peeringdb: z
      .strictObject({
        dataDir: z.string().min(1).optional(),
        url: z.url().optional(),
        apiKeyEnv: z.string().optional(),
      })
      .refine((p) => (p.dataDir === undefined) !== (p.url === undefined), {
        message: 'give exactly one of dataDir (a folder of PeeringDB JSON files) and url (the live API)',
        path: ['dataDir'],
      }),
    store: z
      .strictObject({
        dataDir: z.string().min(1).default('.data'),
        /**
         * Environment variable holding the page-token secret (base64, at least 32 bytes). Replicas behind one
         * Service must share it, or a caller's next page may land on a replica that cannot open its token;
         * without it each data folder makes its own.
         */
        pageTokenKeyEnv: z.string().min(1).optional(),
      })
      .prefault({}),
    policy: z
      .strictObject({
        approval: z.enum(['auto', 'manual']).default('auto'),
        /** Approved sessions not established within this window become `unestablished`. */
        timeWindow: DurationSchema.prefault('7d'),
        maxSessionsPerRequest: z.number().int().min(1).max(100).default(100),
        maxPendingSessionsPerPeer: z.number().int().min(0).max(100_000).default(1000),
        allowAsns: z.array(AsnSchema).optional(),
        denyAsns: z.array(AsnSchema).default([]),
        /**
         * Accept loopback addresses (127.0.0.0/8, ::1) as session endpoints. Only for a lab whose exchange is on
         * the loopback interface, like the demo's; a production network never peers on one.
         */
        allowLoopbackEndpoints: z.boolean().default(false),
        /**
         * The draft's counter-request: when a peer's request carries a `return_url`, ask it in turn for the
         * sessions it did not ask for (the same locations, every address family both networks have there).
         * `auto` sends them; `manual` writes them as a suspended PeeringRequest for a person to release.
         */
        counterRequests: z
          .strictObject({
            mode: z.enum(['off', 'auto', 'manual']).default('off'),
            /**
             * Where to look for what is missing: `requested`, the locations of the peer's request (a request at one
             * exchange is no reason to ask for all); `shared`, every exchange both networks share in PeeringDB.
             */
            locations: z.enum(['requested', 'shared']).default('requested'),
            /** At most this many counter-requests per peer ASN and hour; more wait their turn. */
            perPeerPerHour: z.number().int().min(1).max(3600).default(4),
            /** How we authenticate at the peer's API (Secrets in the inbound namespace); needed unless off. */
            credentials: PeerApiCredentialsSchema.optional(),
            /** http and loopback return URLs: only for a lab on one machine. */
            allowLoopbackTargets: z.boolean().default(false),
            /** Return URLs on private addresses (RFC 1918, RFC 6598, ULA), for peers on a private network. */
            allowPrivateTargets: z.boolean().default(false),
          })
          .refine((c) => c.mode === 'off' || c.credentials !== undefined, {
            message: 'counter-requests need credentials for the peers’ APIs',
            path: ['credentials'],
          })
          .prefault({}),
      })
      .prefault({}),
    limits: z
      .strictObject({
        bodyBytes: z
          .number()
          .int()
          .min(1024)
          .max(16 * 1024 * 1024)
          .default(1024 * 1024),
        pageSize: z.number().int().min(1).max(100).default(100),
        /** Requests per minute per caller; 0 turns the limit off. */
        requestsPerMinute: z.number().int().min(0).default(600),
      })
      .prefault({}),
    auth: z
      .strictObject({
        issuers: z.array(IssuerSchema).default([]),
        staticTokens: z.array(StaticTokenSchema).default([]),
        /**
         * How callers must present tokens: `bearer` (default), `dpop` (RFC 9449), `dpop+signature` (DPoP and RFC 9421
         * signatures with Content-Digest). See docs/authentication.md.
         */
        policy: AuthPolicySchema.default('bearer'),
        /** Exceptions to `policy` per caller ASN, stricter or laxer (a bearer-only peer under a `dpop` policy). */
        callers: z.array(z.strictObject({ asn: AsnSchema, policy: AuthPolicySchema })).default([]),
        dpop: DpopSchema,
      })
      .superRefine((auth, context) => {
        const seen = new Set<number>();
        auth.callers.forEach((caller, index) => {
          if (seen.has(caller.asn)) {
            context.addIssue({
              code: 'custom',
              path: ['callers', index, 'asn'],
              message: `AS${caller.asn} is listed twice`,
            });
          }
          seen.add(caller.asn);
        });
      })
      .prefault({}),
  })
  .strict();
export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Validates a parsed configuration; the error names the field path. */
export function parseConfig(raw: unknown, source = 'configuration'): Config {
  return parseValidated(ConfigSchema, raw, source, 'config');
}

/** Reads and validates a YAML configuration file. */
export async function loadConfig(path: string): Promise<Config> {
  return loadValidatedYaml(ConfigSchema, path, 'config');
}
