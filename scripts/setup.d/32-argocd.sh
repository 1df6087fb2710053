#!/usr/bin/env bash
# Argo CD for the GitOps tests (controller/test/e2e/argocd.test.ts): redis-server and git from Debian (Argo CD's
# controller and repo server need a redis; the repo server reads git), and Argo CD's own binary built from the Go
# module proxy (test-support/argocd/build.sh: about 7 minutes and 4.5 GB of Go caches on a fresh machine, once).
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."

PATH="$PATH:/usr/sbin:/usr/local/sbin"
missing=()
command -v redis-server > /dev/null 2>&1 || missing+=(redis-server)
command -v git > /dev/null 2>&1 || missing+=(git)
if ((${#missing[@]} > 0)); then
	if ! command -v apt-get > /dev/null 2>&1; then
		echo "setup: ${missing[*]} missing and this system has no apt-get; install them by hand" >&2
		exit 1
	fi
	SUDO=""
	if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update
	$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
echo "setup: $(redis-server --version | cut -d' ' -f1-3), $(git --version)"
if ! command -v go > /dev/null; then
	echo "32-argocd.sh: Go is not installed; the Argo CD tests need it to build Argo CD" >&2
	exit 1
fi
dir=$(bash test-support/argocd/build.sh | tail -n1)
echo "setup: Argo CD ready in $dir ($(cat "$dir/VERSION"))"
