import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalExecProvisioner } from 'cdktf';

/**
 * Where each value a peeringctl call needs is read from, as a Terraform expression on `self` (the only thing a
 * destroy-time provisioner may reference). Keys are the session fields.
 */
export interface SelfValues {
  readonly apiUrl: string;
  readonly localAsn: string;
  readonly peerAsn: string;
  readonly location: string;
  readonly localIp: string;
  readonly peerIp: string;
  readonly localBgpRole?: string | undefined;
  readonly peerBgpRole?: string | undefined;
  readonly secretEnv?: string | undefined;
  readonly tokenEnv?: string | undefined;
}

/** The environment variables the commands read; values reach the command only through these. */
// PEERING_API_URL is also peeringctl's own variable for --api-url, so the URL needs no flag.
const ENV = {
  apiUrl: 'PEERING_API_URL',
  localAsn: 'PEERING_LOCAL_ASN',
  peerAsn: 'PEERING_PEER_ASN',
  location: 'PEERING_LOCATION',
  localIp: 'PEERING_LOCAL_IP',
  peerIp: 'PEERING_PEER_IP',
  localBgpRole: 'PEERING_LOCAL_BGP_ROLE',
  peerBgpRole: 'PEERING_PEER_BGP_ROLE',
  secretEnv: 'PEERING_SECRET_ENV',
  tokenEnv: 'PEERING_TOKEN_ENV',
} as const satisfies Record<keyof SelfValues, string>;

type Field = keyof SelfValues;

/** peeringctl flags per field; the flag's value is always `"$VAR"`, expanded by the shell, never parsed by it. */
const FLAGS: Partial<Record<Field, string>> = {
  localAsn: '--local-asn',
  peerAsn: '--peer-asn',
  location: '--location',
  localIp: '--local-ip',
  peerIp: '--peer-ip',
  localBgpRole: '--local-bgp-role',
  peerBgpRole: '--peer-bgp-role',
  secretEnv: '--secret-env',
};

const REQUEST_FIELDS: readonly Field[] = [
  'localAsn',
  'peerAsn',
  'location',
  'localIp',
  'peerIp',
  'localBgpRole',
  'peerBgpRole',
  'secretEnv',
];
const DELETE_FIELDS: readonly Field[] = ['localAsn', 'peerAsn', 'location', 'localIp', 'peerIp'];

// A per-peer token is looked up by NAME at run time, so no token is ever written into configuration or state.
// Terraform reads `${` in any string as its own interpolation, so the script never uses the shell's `${...}`.
// The script is kept short on purpose: Terraform parses every string of every resource as a template, and at
// 1,000 sessions the two scripts per session are most of the plan's CPU time.
const TOKEN_PRELUDE =
  'if [ -n "$PEERING_TOKEN_ENV" ]; then ' +
  'PEERING_API_TOKEN="$(printenv "$PEERING_TOKEN_ENV")" || ' +
  '{ echo "peering: environment variable $PEERING_TOKEN_ENV (tokenEnv) is not set" >&2; exit 1; }; ' +
  'export PEERING_API_TOKEN; fi; ';

/**
 * The create-time (`peeringctl request`) and destroy-time (`peeringctl delete`) provisioners of one session.
 *
 * The shell script is a constant: it only expands `"$VAR"` references, and every session value arrives as an
 * environment variable whose value Terraform takes from `self`. No value is ever interpolated into the script,
 * so an address or URL cannot inject a command, and the destroy-time command works from state alone. The
 * peeringctl command line is passed as positional arguments (`"$@"`), never parsed by the shell either.
 *
 * @example
 * const [create, destroy] = sessionProvisioners(['peeringctl'], {
 *   apiUrl: '${self.input.api_url}', localAsn: '${self.triggers_replace.local_asn}', ... });
 */
export function sessionProvisioners(
  peeringctl: readonly string[],
  self: SelfValues,
): [LocalExecProvisioner, LocalExecProvisioner] {
  const environment: Record<string, string> = {};
  for (const field of Object.keys(ENV) as Field[]) {
    const value = self[field];
    if (value !== undefined) environment[ENV[field]] = value;
  }
  // Only a session with a tokenEnv reads one; the others keep whatever PEERING_API_TOKEN Terraform runs with.
  const prelude = self.tokenEnv === undefined ? '' : TOKEN_PRELUDE;
  const call = (subcommand: 'request' | 'delete', fields: readonly Field[]): LocalExecProvisioner => {
    const flags = fields
      .filter((field) => self[field] !== undefined)
      .map((field) => `${FLAGS[field]} "$${ENV[field]}"`)
      .join(' ');
    return {
      type: 'local-exec',
      when: subcommand === 'request' ? 'create' : 'destroy',
      // `sh -c SCRIPT NAME ARG...`: the peeringctl argv and the subcommand (Terraform appends `command` last)
      // become "$@".
      interpreter: ['/bin/sh', '-c', `${prelude}exec "$@" ${flags}`, 'peeringctl', ...peeringctl],
      command: subcommand,
      environment,
    };
  };
  return [call('request', REQUEST_FIELDS), call('delete', DELETE_FIELDS)];
}

/**
 * The command that runs peeringctl: the `peeringctl` prop, else `$PEERINGCTL` (a JSON array, or a command line
 * split on whitespace), else `node` with this checkout's `dist/controller/src/cli/peeringctl.js`.
 *
 * @example
 * resolvePeeringctl(undefined, { PEERINGCTL: '/usr/local/bin/peeringctl' }); // ['/usr/local/bin/peeringctl']
 */
export function resolvePeeringctl(
  prop: readonly string[] | undefined,
  env: NodeJS.ProcessEnv = process.env,
): readonly string[] {
  if (prop !== undefined) return prop;
  const fromEnv = env.PEERINGCTL?.trim();
  if (fromEnv) {
    if (fromEnv.startsWith('[')) {
      const parsed: unknown = JSON.parse(fromEnv);
      if (
        !Array.isArray(parsed) ||
        parsed.length === 0 ||
        !parsed.every((a) => typeof a === 'string' && a !== '')
      ) {
        throw new TypeError('PEERINGCTL must be a command line or a JSON array of non-empty strings');
      }
      return parsed as string[];
    }
    return fromEnv.split(/\s+/);
  }
  return ['node', defaultPeeringctlScript()];
}

/** `dist/controller/src/cli/peeringctl.js` of the package this module belongs to (source or compiled). */
export function defaultPeeringctlScript(): string {
  return join(packageRoot(), 'dist', 'controller', 'src', 'cli', 'peeringctl.js');
}

let root: string | undefined;

function packageRoot(): string {
  if (root !== undefined) return root;
  // Works from provider/src (ts-jest, tsx) and from dist/provider/src (compiled) alike.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'peering-operator'
    ) {
      root = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('cannot find the peering-operator package root above the provider module');
    dir = parent;
  }
}
