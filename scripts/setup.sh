#!/usr/bin/env bash
# Installs everything the test suite needs, idempotently: npm dependencies, then each component's own step in
# scripts/setup.d/ (system packages, Go builds). Safe to run again; each step skips what is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

node scripts/ensure-deps.mjs

for step in scripts/setup.d/*.sh; do
  [ -e "$step" ] || continue
  echo "setup: $step"
  bash "$step"
done

# The real Kubernetes control plane for the operator's tests (built from Go modules, cached outside git).
if [ -f test-support/kube/build.sh ]; then
  bash test-support/kube/build.sh
fi
