#!/usr/bin/env bash
# Helm 3 for the chart's tests (helm lint, helm template), built from its Go module at a pinned version into
#   ${PEERING_HELM_CACHE:-$HOME/.cache/peering-operator/helm}/<version>-<recipe hash>/helm
# and nothing is done when that binary is already there. The hash covers the build recipe (build_helm below), so
# changing how helm is built builds a new binary instead of reusing one built the old way. No npm package ships a
# current helm binary, and a prebuilt download is not reachable from our machines, so the Go module proxy is the
# source.
#
#   30-helm.sh              build if missing; print the binary's path on stdout (last line)
#   30-helm.sh --print-path print the path without building
#   30-helm.sh --check      exit 0 if built, 3 if not
#
# controller/test/packaging/helm.ts finds the binary the same way ($PEERING_HELM, else this path).
set -euo pipefail

# The pin: also the version `helm version` reports (set through the ldflags below, as upstream's Makefile does).
HELM_VERSION=v3.22.0
HELM_MODULE=helm.sh/helm/v3

# Builds helm into folder $1 with the link-time values upstream's Makefile (at the pin) gives a release build:
#   internal/version.version, .metadata (empty for a tag), .gitCommit, .gitTreeState;
#   the Kubernetes version helm assumes when no cluster is asked (`helm template`, `helm lint`), in
#   pkg/chartutil and pkg/lint/rules: the major/minor of k8s.io/client-go in helm's go.mod, major + 1
#   (client-go v0.37.x is Kubernetes 1.37). Without these helm assumes Kubernetes 1.20, and every chart that
#   asks for more (ours: kubeVersion >=1.28) fails `helm template` unless given --kube-version.
# Its text is hashed into the cache folder's name: edit it and the next run builds anew.
build_helm() {
	local out=$1 gomod commit client_go k8s_major k8s_minor
	# `go list -m module@version` fetches the release's go.mod (and origin, when the proxy records it) from the
	# module proxy, outside any module of ours.
	gomod=$(cd "$out" && go list -m -f '{{.GoMod}}' "$HELM_MODULE@$HELM_VERSION")
	commit=$(cd "$out" && go list -m -f '{{with .Origin}}{{.Hash}}{{end}}' "$HELM_MODULE@$HELM_VERSION")
	client_go=$(awk '{ for (i = 1; i < NF; i++) if ($i == "k8s.io/client-go") { print $(i + 1); exit } }' "$gomod")
	if [[ ! $client_go =~ ^v([0-9]+)\.([0-9]+)\. ]]; then
		echo "30-helm.sh: no k8s.io/client-go version in $gomod" >&2
		return 1
	fi
	k8s_major=$((BASH_REMATCH[1] + 1))
	k8s_minor=${BASH_REMATCH[2]}
	if [[ -z $commit ]]; then
		# Upstream reads it from its git checkout; the module proxy only knows it when it recorded the origin.
		echo "30-helm.sh: the module proxy does not record $HELM_MODULE@$HELM_VERSION's commit; \`helm version\` will show none" >&2
	fi
	local ldflags=(
		-s -w
		-X "helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
		-X "helm.sh/helm/v3/internal/version.metadata="
		-X "helm.sh/helm/v3/internal/version.gitCommit=$commit"
		-X "helm.sh/helm/v3/internal/version.gitTreeState=clean"
		-X "helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$k8s_major"
		-X "helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$k8s_minor"
		-X "helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$k8s_major"
		-X "helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor"
	)
	echo "30-helm.sh: helm $HELM_VERSION assumes Kubernetes $k8s_major.$k8s_minor (k8s.io/client-go $client_go)" >&2
	# `go install module@version` builds exactly the released go.mod/go.sum (helm v3 has no replace directives),
	# in module mode and away from our own module, so nothing of ours influences it.
	(cd "$out" && CGO_ENABLED=0 GOBIN=$out go install -trimpath -ldflags "${ldflags[*]}" "$HELM_MODULE/cmd/helm@$HELM_VERSION")
}

recipe_hash=$(declare -f build_helm | sha256sum | cut -c1-12)
cache_root=${PEERING_HELM_CACHE:-$HOME/.cache/peering-operator/helm}
dir=$cache_root/$HELM_VERSION-$recipe_hash
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
echo "30-helm.sh: building helm $HELM_VERSION from $HELM_MODULE (a few minutes the first time)" >&2
start=$SECONDS
build_helm "$tmp"
"$tmp/helm" version --short > /dev/null
rm -rf "$dir"
# A rename is atomic: a reader never finds half a folder.
mv "$tmp" "$dir"
trap - EXIT
echo "30-helm.sh: built helm $HELM_VERSION in $((SECONDS - start))s: $(du -h "$binary" | cut -f1)" >&2
echo "$binary"
