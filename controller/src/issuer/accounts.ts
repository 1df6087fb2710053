import { z } from 'zod';
import { AsnSchema } from '../domain/session.js';
import { loadValidatedYaml, parseValidated } from '../config/validated-file.js';

/**
 * A network membership as PeeringDB's `/profile/v1` states it. `perms` and `manage_peering_sessions` are
 * permission bits (read 1, update 2, create 4, delete 8); plain members hold 1, admins 15.
 */
export const NetworkMembershipSchema = z
  .object({
    asn: AsnSchema,
    /** PeeringDB's `net` id; defaults to the ASN, which is unique enough for a fixture. */
    id: z.number().int().positive().optional(),
    name: z.string().min(1).optional(),
    perms: z.number().int().min(0).max(15),
    /** Defaults to `perms`, as PeeringDB derives it from the same organisation role. */
    manage_peering_sessions: z.number().int().min(0).max(15).optional(),
  })
  .strict();
export type NetworkMembership = z.output<typeof NetworkMembershipSchema>;

/** A person (PeeringDB user) who can log in through the authorization code flow. */
export const IssuerAccountSchema = z
  .object({
    /** PeeringDB's numeric user id: the `sub` of its tokens. */
    id: z.number().int().positive(),
    username: z.string().regex(/^[A-Za-z0-9._@+-]{1,150}$/, 'letters, digits and . _ @ + - only'),
    /** Plain text: this issuer is for tests and demos only. */
    password: z.string().min(1),
    name: z.string().min(1),
    given_name: z.string().optional(),
    family_name: z.string().optional(),
    email: z.email().optional(),
    verified_email: z.boolean().default(true),
    /** PeeringDB's "this person is affiliated with an organisation it verified"; receivers require it. */
    verified_user: z.boolean().default(true),
    networks: z.array(NetworkMembershipSchema).default([]),
  })
  .strict();
export type IssuerAccount = z.output<typeof IssuerAccountSchema>;

const LOOPBACK_REDIRECT = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?\/[^\s#]*$/;

/**
 * An OAuth client of the issuer. A public client (no secret) is a native app such as `peeringctl login`
 * with a loopback redirect URI (any port, RFC 8252 §7.3). A client with `account` is a service account: its
 * client-credentials tokens act for that person, which PeeringDB itself does not offer but a generic OIDC
 * issuer can.
 */
export const IssuerClientSchema = z
  .object({
    client_id: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits and . _ - only'),
    client_secret: z.string().min(16).optional(),
    redirect_uris: z
      .array(
        z
          .string()
          .refine(
            (uri) => LOOPBACK_REDIRECT.test(uri) || uri.startsWith('https://'),
            'must be https:// or a loopback http:// URI such as http://127.0.0.1/callback',
          ),
      )
      .default([]),
    /** The `username` of the account whose networks this client's tokens carry. */
    account: z.string().optional(),
  })
  .strict();
export type IssuerClient = z.output<typeof IssuerClientSchema>;

/** The fixture file: `accounts` and `clients`, YAML or JSON. */
export const IssuerFixtureSchema = z
  .object({
    accounts: z.array(IssuerAccountSchema).min(1),
    clients: z.array(IssuerClientSchema).default([]),
  })
  .strict()
  .superRefine((fixture, context) => {
    const usernames = new Set<string>();
    const ids = new Set<number>();
    fixture.accounts.forEach((account, index) => {
      if (usernames.has(account.username)) {
        context.addIssue({
          code: 'custom',
          path: ['accounts', index, 'username'],
          message: `${account.username} is used twice`,
        });
      }
      if (ids.has(account.id)) {
        context.addIssue({
          code: 'custom',
          path: ['accounts', index, 'id'],
          message: `${account.id} is used twice`,
        });
      }
      usernames.add(account.username);
      ids.add(account.id);
    });
    const clientIds = new Set<string>();
    fixture.clients.forEach((client, index) => {
      if (clientIds.has(client.client_id)) {
        context.addIssue({
          code: 'custom',
          path: ['clients', index, 'client_id'],
          message: `${client.client_id} is used twice`,
        });
      }
      clientIds.add(client.client_id);
      if (client.account !== undefined && !usernames.has(client.account)) {
        context.addIssue({
          code: 'custom',
          path: ['clients', index, 'account'],
          message: `no account has username ${client.account}`,
        });
      }
      if (client.client_secret === undefined && client.redirect_uris.length === 0) {
        context.addIssue({
          code: 'custom',
          path: ['clients', index, 'redirect_uris'],
          message: 'a public client (no client_secret) needs at least one redirect URI',
        });
      }
    });
  });
export type IssuerFixture = z.output<typeof IssuerFixtureSchema>;
export type IssuerFixtureInput = z.input<typeof IssuerFixtureSchema>;

/** Validates a parsed fixture; the error names the field path. */
export function parseIssuerFixture(raw: unknown, source = 'issuer accounts'): IssuerFixture {
  return parseValidated(IssuerFixtureSchema, raw, source, 'accounts');
}

/**
 * Reads an accounts fixture (YAML, of which JSON is a subset).
 *
 * @example
 * const fixture = await loadIssuerFixture('examples/issuer-accounts.yaml');
 */
export async function loadIssuerFixture(path: string): Promise<IssuerFixture> {
  return loadValidatedYaml(IssuerFixtureSchema, path, 'accounts');
}

/** The networks as PeeringDB's `/profile/v1` lists them (`manage_peering_sessions` always present). */
export function profileNetworks(account: IssuerAccount) {
  return account.networks.map((n) => ({
    id: n.id ?? n.asn,
    name: n.name ?? `AS${n.asn}`,
    asn: n.asn,
    perms: n.perms,
    manage_peering_sessions: n.manage_peering_sessions ?? n.perms,
  }));
}

/** PeeringDB's `/profile/v1` body for an access token with `scopes`. */
export function profileBody(account: IssuerAccount, scopes: ReadonlySet<string>) {
  const [given = account.name, ...rest] = account.name.split(' ');
  return {
    id: account.id,
    name: account.name,
    given_name: account.given_name ?? given,
    family_name: account.family_name ?? rest.join(' '),
    verified_user: account.verified_user,
    ...(scopes.has('email') && account.email !== undefined
      ? { email: account.email, verified_email: account.verified_email }
      : {}),
    ...(scopes.has('networks') ? { networks: profileNetworks(account) } : {}),
    ...(scopes.has('amr') ? { amr: ['pwd'] } : {}),
  };
}
