#!/usr/bin/env bash
# Installs everything the test suite needs, idempotently: system packages, npm dependencies, the Go-built
# control plane. Safe to run again; each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm dependencies (locked).
node scripts/ensure-deps.mjs

# The real Kubernetes control plane for the operator's tests (built from Go modules, cached outside git).
if [ -x test-support/kube/build.sh ]; then
  bash test-support/kube/build.sh
fi
