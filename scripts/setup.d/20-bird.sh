#!/usr/bin/env bash
# BIRD 2 for the router driver's tests, benchmark and demo (Debian package bird2). Idempotent: installs only
# when the daemon or its control client is missing. The package's system service is not used: tests, benchmark
# and demo start unprivileged daemons with their own configuration and control socket.
set -euo pipefail

# Debian installs into /usr/sbin, which is not on every user's PATH.
PATH="$PATH:/usr/sbin:/usr/local/sbin"
if command -v bird >/dev/null 2>&1 && command -v birdc >/dev/null 2>&1; then
  echo "setup: bird2 already installed ($(bird --version 2>&1 | head -n1))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: bird2 is missing and this system has no apt-get; install BIRD 2 (bird, birdc) by hand" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends bird2
echo "setup: installed $(bird --version 2>&1 | head -n1)"
