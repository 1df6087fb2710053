#!/usr/bin/env bash
# Builds the real kube-apiserver, etcd and kube-controller-manager that the
# test harness (control-plane.ts) runs, from the versions pinned in go.mod, into
#   ${PEERING_ENVTEST_CACHE:-$HOME/.cache/peering-operator/envtest}/<k8s version>-<recipe hash>/
# and does nothing when that folder is already complete. The hash covers go.mod,
# go.sum, our main packages and the build flags, so changing a pin builds a new
# folder and never reuses stale binaries.
#
#   build.sh              build if missing; print the folder on stdout (last line)
#   build.sh --print-dir  print the folder without building
#   build.sh --check      exit 0 if the binaries are present, 3 if not
#
# Exits non-zero when the build fails, so .ci/run can call it to require the
# control plane instead of letting the test suites skip.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

k8s_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' go.mod)
etcd_version=$(awk '$1 == "go.etcd.io/etcd/server/v3" && $2 ~ /^v/ { print $2; exit }' go.mod)
if [[ -z $k8s_version || -z $etcd_version ]]; then
	echo "build.sh: cannot read the pinned versions from $here/go.mod" >&2
	exit 2
fi
k8s_minor=${k8s_version#v1.}
k8s_minor=${k8s_minor%%.*}

# component-base/version is what /version, `kubectl version` and the
# compatibility-version logic of the API server and the controller manager
# read; upstream's build sets it the same way, for both.
version_pkg=k8s.io/component-base/version
k8s_ldflags="-s -w -X $version_pkg.gitVersion=$k8s_version -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$k8s_minor -X $version_pkg.gitTreeState=clean"
etcd_ldflags="-s -w"
# Part of the hash: a change of flags must not reuse binaries built with the old ones.
recipe="trimpath|buildvcs=false|$k8s_ldflags|$etcd_ldflags|CGO_ENABLED=0"

hash=$( { echo "$recipe"; cat go.mod go.sum cmd/*/main.go; } | sha256sum | cut -c1-12)
cache_root=${PEERING_ENVTEST_CACHE:-$HOME/.cache/peering-operator/envtest}
dir=$cache_root/$k8s_version-$hash

complete() { [[ -x $dir/kube-apiserver && -x $dir/etcd && -x $dir/kube-controller-manager && -f $dir/VERSIONS ]]; }

case ${1:-} in
--print-dir)
	echo "$dir"
	exit 0
	;;
--check)
	complete && exit 0 || exit 3
	;;
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
	echo "build.sh: Go is not installed, so kube-apiserver, etcd and kube-controller-manager cannot be built." >&2
	echo "build.sh: install Go >= 1.26, or point KUBEBUILDER_ASSETS at a folder with kube-apiserver and etcd" >&2
	echo "build.sh: (and kube-controller-manager, for tests that ask for it)." >&2
	exit 1
fi

mkdir -p "$cache_root"
# Several jest workers (or a developer and CI) may ask at once: one builds, the
# others wait and then find the folder complete.
exec 9> "$cache_root/.build.lock"
if ! flock -n 9; then
	echo "build.sh: another build holds $cache_root/.build.lock; waiting for it" >&2
	flock 9
fi
if complete; then
	echo "$dir"
	exit 0
fi

tmp=$(mktemp -d "$cache_root/.building-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "build.sh: building kube-apiserver, kube-controller-manager $k8s_version and etcd $etcd_version into $dir (takes minutes the first time)" >&2
start=$SECONDS
timings=()
# Static binaries that run on any Linux of the same architecture; -buildvcs=false
# because the enclosing git checkout is not these binaries' version.
export CGO_ENABLED=0
build() { # name ldflags
	local began=$SECONDS
	go build -trimpath -buildvcs=false -ldflags "$2" -o "$tmp/$1" "./cmd/$1"
	timings+=("$1 $((SECONDS - began))s")
	echo "build.sh: $1 built in $((SECONDS - began))s" >&2
}
build kube-apiserver "$k8s_ldflags"
build etcd "$etcd_ldflags"
build kube-controller-manager "$k8s_ldflags"
{
	echo "kube-apiserver $k8s_version"
	echo "kube-controller-manager $k8s_version"
	echo "etcd $etcd_version"
	echo "go $(go env GOVERSION)"
	echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $((SECONDS - start))s (${timings[*]})"
} > "$tmp/VERSIONS"
# A rename is atomic, so a reader never sees half a folder.
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "build.sh: built in $((SECONDS - start))s: $(du -sh "$dir" | cut -f1) in $dir" >&2
echo "$dir"
