import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { DpopKey } from '../../auth/dpop-key.js';
import { StaticTokenSource } from '../../auth/token-source.js';
import { PeeringApiClient } from '../../client/client.js';
import { DurationSchema } from '../../config/config.js';
import { PeeringError } from '../../domain/errors.js';
import { parseIpAddress } from '../../domain/ip.js';
import { LocationIdSchema } from '../../domain/location.js';
import { AsnSchema } from '../../domain/session.js';
import { FilePeeringDb } from '../../peeringdb/files.js';
import { LivePeeringDb } from '../../peeringdb/live.js';
import type { PeeringDb } from '../../peeringdb/peeringdb.js';
import { UsageError } from './exit-codes.js';
import { loginTokenSource } from './login.js';
import type { OutputFormat } from './output.js';

/** The options every command takes (see the contract in `peeringctl --help`). */
export interface GlobalOptions {
  apiUrl?: string | undefined;
  token?: string | undefined;
  /** The stored login of `peeringctl login`, used when no token is given. */
  tokenFile?: string | undefined;
  /** A DPoP key file (RFC 9449): tokens are bound to it and every request carries a proof. */
  dpopKey?: string | undefined;
  output: OutputFormat;
  /** Per call, retries included, in milliseconds. */
  timeout: number;
}

export function globalsOf(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/**
 * A client of the remote network's Peering API from the global options: `--api-url` (or `PEERING_API_URL`),
 * a bearer token from `--token` (or `PEERING_API_TOKEN`). `localAsns` are the ASNs the user speaks for, so that
 * answers are read from the user's view whichever reading the remote uses.
 */
export async function openClient(
  globals: GlobalOptions,
  localAsns: readonly number[] = [],
  apiUrl?: string,
): Promise<PeeringApiClient> {
  const url = apiUrl ?? globals.apiUrl ?? process.env.PEERING_API_URL;
  if (!url) {
    throw new UsageError("the remote network's Peering API is needed: give --api-url or set PEERING_API_URL");
  }
  // A static token wins; otherwise the stored login, whose token source is invalidated once on a 401.
  const token = globals.token ?? process.env.PEERING_API_TOKEN;
  const dpop = await dpopKeyOf(globals);
  try {
    return new PeeringApiClient({
      apiUrl: url,
      auth: token ? new StaticTokenSource(token, dpop) : loginTokenSource(globals.tokenFile, dpop),
      localAsns,
      totalTimeoutMs: globals.timeout,
      timeoutMs: Math.min(globals.timeout, 30_000),
      userAgent: 'peeringctl/0.1',
    });
  } catch (error) {
    if (error instanceof PeeringError) throw new UsageError(`--api-url: ${error.message}`);
    throw error;
  }
}

/**
 * The DPoP key of `--dpop-key` (or `PEERINGCTL_DPOP_KEY`), made there (mode 0600) on first use; undefined
 * without one, and tokens are then plain bearer tokens.
 */
export async function dpopKeyOf(globals: GlobalOptions): Promise<DpopKey | undefined> {
  const path = globals.dpopKey || process.env.PEERINGCTL_DPOP_KEY;
  if (!path) return undefined;
  try {
    return await DpopKey.fromFile(path);
  } catch (error) {
    if (error instanceof PeeringError) throw new UsageError(`--dpop-key: ${error.message}`);
    throw error;
  }
}

/** PeeringDB from `--peeringdb-dir` (a folder of API dumps) or the live API (`--peeringdb-url`). */
export async function openPeeringDb(options: {
  peeringdbDir?: string | undefined;
  peeringdbUrl?: string | undefined;
}): Promise<PeeringDb> {
  const dir = options.peeringdbDir ?? process.env.PEERINGDB_DIR;
  if (dir !== undefined) {
    if (!existsSync(join(dir, 'netixlan.json'))) {
      throw new PeeringError(
        'INVALID_CONFIG',
        `${dir} holds no netixlan.json: --peeringdb-dir needs a folder of PeeringDB API dumps`,
        'peeringdb-dir',
      );
    }
    return FilePeeringDb.load(dir);
  }
  return new LivePeeringDb({
    url: options.peeringdbUrl ?? process.env.PEERINGDB_URL ?? 'https://www.peeringdb.com/api',
    apiKey: process.env.PEERINGDB_API_KEY,
  });
}

/**
 * The options that name one session, as `request` and `delete` take them: both networks, the location and both
 * addresses, each with `note` after its help (e.g. " (natural key)").
 */
export function sessionKeyOptions(command: Command, note = ''): Command {
  return command
    .option('--local-asn <asn>', `your network${note}`, parse.asn)
    .option('--peer-asn <asn>', `the remote network${note}`, parse.asn)
    .option('--location <id>', `pdb:ix:<id> (public) or pdb:fac:<id> (private)${note}`, parse.location)
    .option('--local-ip <ip>', `your address there${note}`, parse.ip)
    .option('--peer-ip <ip>', `the peer's address there${note}`, parse.ip);
}

/** Commander argument parsers: a bad value is a usage error naming the rule. */
export const parse = {
  asn(value: string): number {
    const asn = /^(AS)?\d{1,10}$/i.test(value) ? Number(value.replace(/^AS/i, '')) : NaN;
    if (!AsnSchema.safeParse(asn).success) throw new InvalidArgumentError('expected an ASN, 1-4294967295');
    return asn;
  },
  location(value: string): string {
    if (!LocationIdSchema.safeParse(value).success) {
      throw new InvalidArgumentError('expected pdb:ix:<PeeringDB ix id> or pdb:fac:<facility id>');
    }
    return value;
  },
  exchange(value: string, previous: string[] = []): string[] {
    if (!/^pdb:ix:[1-9]\d{0,9}$/.test(value))
      throw new InvalidArgumentError('expected pdb:ix:<PeeringDB ix id>');
    return [...previous, value];
  },
  ip(value: string): string {
    const parsed = parseIpAddress(value);
    if (typeof parsed === 'string') throw new InvalidArgumentError(parsed);
    return parsed.address;
  },
  duration(value: string): number {
    const parsed = DurationSchema.safeParse(value);
    if (!parsed.success) throw new InvalidArgumentError('expected a duration such as 30s, 5m or 1h');
    return parsed.data;
  },
  role(value: string): number {
    if (!/^[0-4]$/.test(value)) {
      throw new InvalidArgumentError(
        'expected an RFC 9234 role: 0 provider, 1 RS, 2 RS client, 3 customer, 4 peer',
      );
    }
    return Number(value);
  },
  pageSize(value: string): number {
    if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 100) {
      throw new InvalidArgumentError('expected 1-100');
    }
    return Number(value);
  },
};
