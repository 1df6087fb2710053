import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/sample.js';

export const PEERINGCTL = join(REPO_ROOT, 'dist/controller/src/cli/peeringctl.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Fails loudly when the build is missing: these tests run the compiled CLI, as users do. */
export function requireBuild(): void {
  if (!existsSync(PEERINGCTL)) throw new Error(`${PEERINGCTL} is missing: build first with npx tsc -p .`);
}

/**
 * Runs `node dist/.../peeringctl.js ...args` as a subprocess with only the environment given (plus PATH), so
 * that no PEERING_* variable of the developer leaks in. Killed after `timeoutMs`.
 */
export function peeringctl(
  args: string[],
  options: {
    env?: Record<string, string>;
    input?: string;
    timeoutMs?: number;
    /** Called with all of stderr so far whenever more arrives (to act on progress lines). */
    onStderr?: (stderr: string) => void;
  } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PEERINGCTL, ...args], {
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(stderr);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Waits for text on a subprocess's stderr; pass `watcher.onStderr` to peeringctl(). */
export function stderrWatcher(): {
  onStderr: (stderr: string) => void;
  /** Resolves once stderr contains `text` (a string) or matches it (a RegExp). */
  until: (text: string | RegExp) => Promise<void>;
  seen: () => string;
} {
  let seen = '';
  const waiting: { holds: () => boolean; resolve: () => void }[] = [];
  return {
    onStderr: (stderr) => {
      seen = stderr;
      for (const w of waiting.filter((w) => w.holds())) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
    },
    seen: () => seen,
    until: (text) => {
      const holds = () => (typeof text === 'string' ? seen.includes(text) : text.test(seen));
      return holds() ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ holds, resolve }));
    },
  };
}

/** A run ended with `code`, and its standard error says `text`. */
export function expectExit(
  result: { code: number | null; stderr: string },
  code: number,
  text: string,
): void {
  expect(result.stderr).toContain(text);
  expect(result.code).toBe(code);
}
