import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing, type TerraformStack } from 'cdktf';
import { defaultPeeringctlScript } from '../../src/peeringctl-command.js';

/** The terraform binary: `$PEERING_TERRAFORM`, else `terraform` on the PATH. */
export const TERRAFORM = process.env.PEERING_TERRAFORM ?? 'terraform';

/** Our own provider's address, as the filesystem mirror lays it out (scripts/setup.d/41-terraform-peering.sh). */
export const PEERING_PROVIDER_ADDRESS = 'registry.terraform.io/peering-operator/peering';

/**
 * The filesystem mirror that scripts/setup.d/40-terraform-null.sh builds hashicorp/null into, and
 * 41-terraform-peering.sh our own provider.
 */
export const NULL_MIRROR =
  process.env.PEERING_TERRAFORM_MIRROR ?? join(homedir(), '.cache', 'peering-operator', 'terraform-mirror');

function terraformVersion(): string | undefined {
  try {
    return execFileSync(TERRAFORM, ['version'], {
      encoding: 'utf8',
      env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1' },
    }).split('\n')[0];
  } catch {
    return undefined;
  }
}

/** A version directory of the null provider in the mirror, or undefined when it was not built. */
export function nullProviderInMirror(): string | undefined {
  const base = join(NULL_MIRROR, 'registry.terraform.io', 'hashicorp', 'null');
  if (!existsSync(base)) return undefined;
  return readdirSync(base).find((version) =>
    existsSync(join(base, version, `${process.platform}_${process.arch === 'x64' ? 'amd64' : process.arch}`)),
  );
}

function goVersion(): string | undefined {
  try {
    return execFileSync('go', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/**
 * `describe` when the real parts these tests need are here (terraform, the compiled peeringctl unless
 * `peeringctl: false`, for the null backing the mirror, for our own provider the Go toolchain that builds it);
 * a loud skip otherwise, and a failure in CI, which must run every suite.
 */
export function describeWithTerraform(
  name: string,
  body: () => void,
  options: { nullProvider?: boolean; peeringProvider?: boolean; peeringctl?: boolean } = {},
): void {
  const missing: string[] = [];
  if (terraformVersion() === undefined)
    missing.push(`no terraform binary (${TERRAFORM}; set PEERING_TERRAFORM)`);
  if ((options.peeringctl ?? true) && !existsSync(defaultPeeringctlScript()))
    missing.push(`${defaultPeeringctlScript()} (run npm run build)`);
  if (options.nullProvider && nullProviderInMirror() === undefined) {
    missing.push(`hashicorp/null in ${NULL_MIRROR} (run scripts/setup.d/40-terraform-null.sh)`);
  }
  if (options.peeringProvider && goVersion() === undefined) {
    missing.push(
      'no go toolchain to build peering-operator/peering (scripts/setup.d/41-terraform-peering.sh)',
    );
  }
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  if (process.env.CI) throw new Error(`${name}: missing ${missing.join('; ')}; CI requires it`);
  console.warn(`\n*** SKIPPING ${name}: missing ${missing.join('; ')} ***\n`);
  describe.skip(name, body);
}

export interface TerraformResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A Terraform working directory in a temp folder: configuration, CLI configuration, state and plugins all
 * live there and go away with `dispose()`. Commands run asynchronously, so the API server in this same
 * process keeps answering the `peeringctl` calls Terraform makes.
 *
 * @example
 * const dir = TerraformDir.create({ env: { PEERING_API_TOKEN: token } });
 * dir.write(stack);
 * await dir.ok('init');
 * await dir.ok('apply', '-auto-approve');
 * dir.dispose();
 */
export class TerraformDir {
  private constructor(
    readonly path: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /**
   * `nullMirror` lets the mirror provide hashicorp/null, `peeringMirror` our own peering-operator/peering
   * (scripts/setup.d/41-terraform-peering.sh builds it into the same mirror).
   */
  static create(
    options: { env?: Record<string, string>; nullMirror?: boolean; peeringMirror?: boolean } = {},
  ): TerraformDir {
    const path = mkdtempSync(join(tmpdir(), 'peering-terraform-'));
    const rc = join(path, '.terraformrc');
    // Only the mirror may provide these providers; nothing is ever fetched from a registry.
    const include = [
      ...(options.nullMirror ? ['registry.terraform.io/hashicorp/null'] : []),
      ...(options.peeringMirror ? [PEERING_PROVIDER_ADDRESS] : []),
    ];
    writeFileSync(
      rc,
      include.length > 0
        ? `provider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(NULL_MIRROR)}\n` +
            `    include = ${JSON.stringify(include)}\n  }\n}\n`
        : '',
    );
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        ([key]) => !key.startsWith('TF_') && !key.startsWith('PEERING_API') && key !== 'PEERINGCTL',
      ),
    );
    return new TerraformDir(path, {
      ...inherited,
      TF_CLI_CONFIG_FILE: rc,
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      CHECKPOINT_DISABLE: '1',
      ...options.env,
    });
  }

  /** Writes the stack as `main.tf.json` (or `main.tf` with `hcl`), replacing the other form. */
  write(stack: TerraformStack, { hcl = false }: { hcl?: boolean } = {}): void {
    rmSync(join(this.path, 'main.tf.json'), { force: true });
    rmSync(join(this.path, 'main.tf'), { force: true });
    if (hcl) writeFileSync(join(this.path, 'main.tf'), Testing.synthHcl(stack) as string);
    else writeFileSync(join(this.path, 'main.tf.json'), Testing.synth(stack));
  }

  /** Runs `terraform <args>` with `-no-color`, and never throws. */
  run(...args: string[]): Promise<TerraformResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(TERRAFORM, [...args, '-no-color'], {
        cwd: this.path,
        env: this.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  /** Runs `terraform <args>` and fails with its whole output unless it exits 0. */
  async ok(...args: string[]): Promise<string> {
    const result = await this.run(...args);
    if (result.code !== 0) {
      throw new Error(
        `terraform ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`,
      );
    }
    return result.stdout;
  }

  dispose(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
