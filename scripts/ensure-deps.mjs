#!/usr/bin/env node
// Makes `npm test` and `npm run demo` work on a fresh clone: installs the locked dependencies when
// node_modules is missing or older than the lock file. Nothing else; system packages are .ci/run's job.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const marker = 'node_modules/.package-lock.json';
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync('package-lock.json').mtimeMs;
if (stale) {
  console.error('peering-operator: installing locked dependencies (npm ci)…');
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' });
}
