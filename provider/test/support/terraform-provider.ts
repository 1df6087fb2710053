import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { REPO_ROOT } from '../../../controller/test/support/sample.js';
import { AMS_IX, CLOUDFLARE, GOOGLE } from './ams-ix.js';
import type { PeerApi } from './peer-api.js';
import { TERRAFORM, type TerraformDir } from './terraform.js';

/** The Go module of our Terraform provider, peering-operator/peering. */
export const PROVIDER_MODULE = join(REPO_ROOT, 'provider', 'terraform-provider-peering');

/** An address in AMS-IX's peering LAN (80.249.208.0/21) that is none of Google's: the peer refuses it. */
export const NOT_GOOGLES_AMS_IX_V4 = '80.249.208.1';

export interface CommandResult {
  code: number;
  output: string;
  seconds: number;
}

/**
 * Runs a command without blocking this process (the API server the command talks to lives here), with the
 * environment given, never the developer's Terraform or Peering API settings.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<CommandResult> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !key.startsWith('TF_') && !key.startsWith('PEERING_API') && !key.startsWith('PEERING_ACC'),
    ),
  );
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...inherited, CHECKPOINT_DISABLE: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code: code ?? -1, output, seconds: (Date.now() - started) / 1000 }),
    );
  });
}

/**
 * Builds (or finds up to date) the provider in the filesystem mirror with scripts/setup.d/41-terraform-peering.sh;
 * the mirror's path.
 */
export async function buildPeeringProvider(): Promise<string> {
  const script = join(REPO_ROOT, 'scripts', 'setup.d', '41-terraform-peering.sh');
  const result = await runCommand('bash', [script], { cwd: REPO_ROOT });
  if (result.code !== 0) throw new Error(`${script} exited ${result.code}:\n${result.output}`);
  return result.output.trim().split('\n').at(-1) ?? '';
}

/** The terraform binary as an absolute path: terraform-plugin-testing wants one (TF_ACC_TERRAFORM_PATH). */
export function terraformPath(): string {
  if (isAbsolute(TERRAFORM)) return TERRAFORM;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, TERRAFORM);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  throw new Error(`${TERRAFORM} is not on the PATH; set PEERING_TERRAFORM`);
}

/** The OAuth client (client credentials) registered for Cloudflare's Terraform at the peer's issuer. */
const TERRAFORM_CLIENT = {
  client_id: 'terraform-as13335',
  client_secret: 'terraform-as13335-client-secret',
  account: 'terraform-as13335',
};

/**
 * The PEERING_ACC_* variables of the Go acceptance tests (internal/provider/acceptance_test.go) for our server
 * as Google: Cloudflare's and Google's AMS-IX addresses, and an OAuth client of the issuer acting for AS13335.
 */
export function acceptanceEnv(peer: PeerApi): Record<string, string> {
  peer.issuer.addAccount({
    id: 913335,
    username: TERRAFORM_CLIENT.account,
    password: 'unused-by-client-credentials',
    name: 'Terraform of AS13335',
    networks: [{ asn: CLOUDFLARE.asn, perms: 15 }],
  });
  peer.issuer.addClient(TERRAFORM_CLIENT);
  return {
    TF_ACC: '1',
    TF_ACC_TERRAFORM_PATH: terraformPath(),
    TF_ACC_PROVIDER_NAMESPACE: 'peering-operator',
    PEERING_ACC_API_URL: peer.url,
    PEERING_ACC_TOKEN: peer.token,
    PEERING_ACC_LOCAL_ASN: String(CLOUDFLARE.asn),
    PEERING_ACC_PEER_ASN: String(GOOGLE.asn),
    PEERING_ACC_LOCATION: AMS_IX,
    PEERING_ACC_LOCAL_IP: CLOUDFLARE.v4,
    PEERING_ACC_PEER_IPS: GOOGLE.v4.join(','),
    PEERING_ACC_LOCAL_IP6: CLOUDFLARE.v6,
    PEERING_ACC_PEER_IP6: GOOGLE.v6[0],
    PEERING_ACC_FOREIGN_PEER_IP: NOT_GOOGLES_AMS_IX_V4,
    PEERING_ACC_OAUTH2_TOKEN_URL: `${peer.issuer.issuer}/token/`,
    PEERING_ACC_OAUTH2_CLIENT_ID: TERRAFORM_CLIENT.client_id,
    PEERING_ACC_OAUTH2_CLIENT_SECRET: TERRAFORM_CLIENT.client_secret,
    // startTestApi's configured public URL: the audience its JWT verifier expects.
    PEERING_ACC_OAUTH2_RESOURCE: 'http://127.0.0.1/v0.1',
  };
}

/** One `peering_session` of Cloudflare's (ours) with Google at AMS-IX, as HCL. */
export interface SessionBlock {
  name: string;
  localIp: string;
  peerIp: string;
  /** RFC 9234 roles, both or neither. */
  roles?: { local: number; peer: number };
  sessionSecret?: string;
  sessionSecretVersion?: number;
}

/** A whole configuration in HCL: the provider from the mirror, pointed at `apiUrl`, and the sessions. */
export function peeringConfig(apiUrl: string, sessions: readonly SessionBlock[]): string {
  const blocks = sessions.map((s) =>
    [
      `resource "peering_session" ${JSON.stringify(s.name)} {`,
      `  peer_asn = ${GOOGLE.asn}`,
      `  location = ${JSON.stringify(AMS_IX)}`,
      `  local_ip = ${JSON.stringify(s.localIp)}`,
      `  peer_ip  = ${JSON.stringify(s.peerIp)}`,
      ...(s.roles ? [`  local_bgp_role = ${s.roles.local}`, `  peer_bgp_role = ${s.roles.peer}`] : []),
      ...(s.sessionSecret ? [`  session_secret = ${JSON.stringify(s.sessionSecret)}`] : []),
      ...(s.sessionSecretVersion ? [`  session_secret_version = ${s.sessionSecretVersion}`] : []),
      '}',
    ].join('\n'),
  );
  return [
    'terraform {',
    '  required_providers {',
    '    peering = { source = "peering-operator/peering", version = "0.1.0" }',
    '  }',
    '}',
    '',
    'provider "peering" {',
    `  api_url   = ${JSON.stringify(apiUrl)}`,
    `  local_asn = ${CLOUDFLARE.asn}`,
    '}',
    '',
    ...blocks,
    '',
  ].join('\n');
}

/** Writes the configuration as the directory's only `main.tf`. */
export function writeConfig(dir: TerraformDir, hcl: string): void {
  writeFileSync(join(dir.path, 'main.tf'), hcl);
}
