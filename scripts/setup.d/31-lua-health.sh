#!/usr/bin/env bash
# Go modules of test-support/lua (gopher-lua, as Argo CD runs it) for the Argo CD health-check test, fetched
# now so the test itself never waits on the module proxy. Idempotent: `go mod download` skips what is cached.
set -euo pipefail
cd "$(dirname "$0")/../../test-support/lua"
if ! command -v go > /dev/null; then
	echo "31-lua-health.sh: Go is not installed; the Argo CD health-check test needs it" >&2
	exit 1
fi
go mod download
echo "setup: test-support/lua modules ready ($(go list -m github.com/yuin/gopher-lua))"
