#!/usr/bin/env bash
# Builds Argo CD's own binary (one multi-call `argocd`: application controller, repo server, CLI) for the GitOps
# tests, from the version pinned in go.mod, into
#   ${PEERING_ARGOCD_CACHE:-$HOME/.cache/peering-operator/argocd}/<version>-<recipe hash>/
# with what the processes need beside it: Argo CD's CRDs and base ConfigMaps (manifests/), and the git wrapper
# scripts its repo server calls (hack/). Does nothing when that folder is already complete. The hash covers
# go.mod, go.sum and the build flags.
#
#   build.sh              build if missing; print the folder on stdout (last line)
#   build.sh --print-dir  print the folder without building
#   build.sh --check      exit 0 if complete, 3 if not
#
# Argo CD 3.6 needs Go 1.27: GOTOOLCHAIN fetches that toolchain from the module proxy when the machine has an
# older Go. go.mod carries Argo CD's own replace lines (k8s.io staging modules and a few pins), copied from its
# go.mod: a build from another module must repeat them. Do not `go mod tidy` here (nothing imports the program).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

module=github.com/argoproj/argo-cd/v3
version=$(awk -v m="$module" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' go.mod)
[[ -n $version ]] || { echo "build.sh: no $module version in go.mod" >&2; exit 2; }
toolchain=$(awk '$1 == "toolchain" { print $2; exit }' go.mod)
ldflags="-s -w -X $module/common.version=${version#v} -X $module/common.gitTag=$version -X $module/common.gitTreeState=clean"
recipe="trimpath|CGO_ENABLED=0|$toolchain|$ldflags"
hash=$( { echo "$recipe"; cat go.mod go.sum; } | sha256sum | cut -c1-12)
cache_root=${PEERING_ARGOCD_CACHE:-$HOME/.cache/peering-operator/argocd}
dir=$cache_root/$version-$hash

complete() { [[ -x $dir/bin/argocd && -d $dir/manifests/crds && -x $dir/hack/git-verify-wrapper.sh && -f $dir/VERSION ]]; }

case ${1:-} in
--print-dir)
	echo "$dir"
	exit 0
	;;
--check) complete && exit 0 || exit 3 ;;
"") ;;
*)
	echo "usage: build.sh [--print-dir|--check]" >&2
	exit 2
	;;
esac

if complete; then
	echo "$dir"
	exit 0
fi
if ! command -v go > /dev/null; then
	echo "build.sh: Go is not installed, so Argo CD cannot be built" >&2
	exit 1
fi

mkdir -p "$cache_root"
exec 9> "$cache_root/.build.lock"
if ! flock -n 9; then
	echo "build.sh: another build holds $cache_root/.build.lock; waiting for it" >&2
	flock 9
fi
if complete; then
	echo "$dir"
	exit 0
fi

export GOTOOLCHAIN=$toolchain CGO_ENABLED=0
work=$(mktemp -d "$cache_root/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT
started=$SECONDS
echo "build.sh: building Argo CD $version with $toolchain (about 7 minutes on 2 cores, once)" >&2
go mod download "$module"
go build -trimpath -ldflags "$ldflags" -o "$work/bin/argocd" "$module/cmd"
src=$(go list -m -f '{{.Dir}}' "$module")
mkdir -p "$work/manifests" "$work/hack"
cp -r "$src/manifests/crds" "$work/manifests/crds"
cp -r "$src/manifests/base/config" "$work/manifests/config"
cp "$src/hack/git-verify-wrapper.sh" "$src/hack/gpg-wrapper.sh" "$work/hack/"
chmod -R u+w "$work"
chmod +x "$work/hack/"*.sh
echo "$version built with $(go version | awk '{print $3}') in $((SECONDS - started)) s" > "$work/VERSION"
rm -rf "$dir"
mv "$work" "$dir"
trap - EXIT
cat "$dir/VERSION" >&2
echo "$dir"
