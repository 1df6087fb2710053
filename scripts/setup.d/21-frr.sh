#!/usr/bin/env bash
# FRRouting for the FRR router driver's tests and benchmark (Debian package frr). Idempotent: installs only when
# bgpd or vtysh is missing. The package's system service is not used: tests start unprivileged-port bgpd
# instances of their own (each with its own configuration, vty socket folder and pid file) and stop them.
set -euo pipefail

PATH="$PATH:/usr/sbin:/usr/local/sbin"
if [ -x /usr/lib/frr/bgpd ] && command -v vtysh >/dev/null 2>&1; then
  echo "setup: frr already installed ($(/usr/lib/frr/bgpd --version 2>&1 | head -n1))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: frr is missing and this system has no apt-get; install FRRouting (bgpd, vtysh) by hand" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
# Where a service manager runs, the package also starts its own daemons; tests never use or touch them.
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends frr
echo "setup: installed $(/usr/lib/frr/bgpd --version 2>&1 | head -n1)"
