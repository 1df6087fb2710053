import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/sample.js';

const BIN = join(REPO_ROOT, 'dist', 'controller', 'src', 'cli', 'peering-operator.js');

function help(...command: string[]): string {
  const result = spawnSync(process.execPath, [BIN, ...command, '--help'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (result.status !== 0)
    throw new Error(`peering-operator ${command.join(' ')} --help failed: ${result.stderr}`);
  return result.stdout;
}

/** The commands a help text lists (`run|operator [options]` gives `run`), `help` left out. */
function commands(text: string): string[] {
  const section = text.split(/^Commands:\n/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)]
    .map((m) => m[1] as string)
    .filter((name) => name !== 'help');
}

// Issue 16: `peering-operator run --help` pointed at examples/manifests, which never existed.
describe('command-line help', () => {
  it('peering-operator names only repository paths that exist', () => {
    const top = help();
    const texts = [top, ...commands(top).map((command) => help(command))];
    const paths = new Set(
      texts.flatMap((text) =>
        [...text.matchAll(/\b(?:examples|docs|charts|crds)\/[\w./-]*\w/g)].map((m) => m[0]),
      ),
    );
    expect(paths.size).toBeGreaterThan(0);
    expect([...paths].filter((path) => !existsSync(join(REPO_ROOT, path)))).toEqual([]);
  });
});
