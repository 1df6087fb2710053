#!/usr/bin/env bash
# Helm 3 for the chart's tests (helm lint, helm template), built from its Go module at a pinned version into
#   ${PEERING_HELM_CACHE:-$HOME/.cache/peering-operator/helm}/<version>/helm
# and nothing is done when that binary is already there. No npm package ships a current helm binary, and a
# prebuilt download is not reachable from our machines, so the Go module proxy is the source.
#
#   30-helm.sh              build if missing; print the binary's path on stdout (last line)
#   30-helm.sh --print-path print the path without building
#   30-helm.sh --check      exit 0 if built, 3 if not
#
# controller/test/packaging/helm.ts finds the binary the same way ($PEERING_HELM, else this path).
set -euo pipefail

# The pin: also the version `helm version` reports (set through the ldflags below, as upstream's Makefile does).
HELM_VERSION=v3.22.0

cache_root=${PEERING_HELM_CACHE:-$HOME/.cache/peering-operator/helm}
dir=$cache_root/$HELM_VERSION
binary=$dir/helm

case ${1:-} in
--print-path)
	echo "$binary"
	exit 0
	;;
--check)
	[[ -x $binary ]] && exit 0 || exit 3
	;;
"") ;;
*)
	echo "usage: 30-helm.sh [--print-path|--check]" >&2
	exit 2
	;;
esac

if [[ -x $binary ]]; then
	echo "setup: helm $HELM_VERSION already built ($binary)" >&2
	echo "$binary"
	exit 0
fi

if ! command -v go > /dev/null; then
	echo "30-helm.sh: Go is not installed, so helm cannot be built; install Go, or set PEERING_HELM to a helm 3 binary" >&2
	exit 1
fi

mkdir -p "$cache_root"
# A developer and CI (or two jest workers) may ask at once: one builds, the others wait and find it done.
exec 9> "$cache_root/.build.lock"
if ! flock -n 9; then
	echo "30-helm.sh: another build holds $cache_root/.build.lock; waiting for it" >&2
	flock 9
fi
if [[ -x $binary ]]; then
	echo "$binary"
	exit 0
fi

tmp=$(mktemp -d "$cache_root/.building-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "30-helm.sh: building helm $HELM_VERSION from helm.sh/helm/v3 (a few minutes the first time)" >&2
start=$SECONDS
# `go install module@version` builds exactly the released go.mod/go.sum (helm v3 has no replace directives), in
# module mode and away from our own module, so nothing of ours influences it.
export CGO_ENABLED=0
GOBIN=$tmp go install -trimpath \
	-ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
	"helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
"$tmp/helm" version --short > /dev/null
rm -rf "$dir"
# A rename is atomic: a reader never finds half a folder.
mv "$tmp" "$dir"
trap - EXIT
echo "30-helm.sh: built helm $HELM_VERSION in $((SECONDS - start))s: $(du -h "$binary" | cut -f1)" >&2
echo "$binary"
