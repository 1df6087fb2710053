#!/usr/bin/env bash
# Our own Terraform provider, peering-operator/peering (provider/terraform-provider-peering, Go with HashiCorp's
# terraform-plugin-framework), built from Go modules into the same Terraform filesystem mirror as
# 40-terraform-null.sh, because the Terraform registry is not reachable from our machines:
#   ${PEERING_TERRAFORM_MIRROR:-$HOME/.cache/peering-operator/terraform-mirror}/
#     registry.terraform.io/peering-operator/peering/0.1.0/<os>_<arch>/terraform-provider-peering_v0.1.0
# Unlike hashicorp/null, this provider's sources live in this repository and change: the binary is rebuilt
# whenever the hash of go.mod, go.sum and every *.go file differs from the one stamped next to it, so a test
# never runs yesterday's provider. Terraform's .terraform.lock.hcl of a working directory pins the binary's hash:
# after a rebuild, run `terraform init -upgrade` in existing working directories.
# Terraform finds the mirror through a CLI configuration file (TF_CLI_CONFIG_FILE) with
#   provider_installation { filesystem_mirror { path = "<mirror>" include = ["registry.terraform.io/peering-operator/peering"] } }
# which provider/test/support/terraform.ts writes for the tests (TerraformDir.create({ peeringMirror: true })).
#
#   41-terraform-peering.sh              build if missing or stale; print the mirror's path on stdout (last line)
#   41-terraform-peering.sh --print-path print the mirror's path without building
#   41-terraform-peering.sh --check      exit 0 if built from the current sources, 3 if not
set -euo pipefail

VERSION=0.1.0
mirror=${PEERING_TERRAFORM_MIRROR:-$HOME/.cache/peering-operator/terraform-mirror}

case ${1:-} in
--print-path)
	echo "$mirror"
	exit 0
	;;
--check | "") ;;
*)
	echo "usage: 41-terraform-peering.sh [--print-path|--check]" >&2
	exit 2
	;;
esac

if ! command -v go >/dev/null 2>&1; then
	[[ ${1:-} == --check ]] && exit 3
	echo "setup: go is missing; install Go >= 1.25 to build the peering-operator/peering Terraform provider" >&2
	exit 1
fi

here=$(cd "$(dirname "$0")/../.." && pwd)
src=$here/provider/terraform-provider-peering
platform="$(go env GOOS)_$(go env GOARCH)"
dir=$mirror/registry.terraform.io/peering-operator/peering/$VERSION/$platform
binary=$dir/terraform-provider-peering_v$VERSION
# Terraform takes any file named terraform-provider-peering* in this folder for the provider, so the stamp
# and the build's temp file are dot files.
stamp=$dir/.terraform-provider-peering.recipe

# The recipe: every input of the build, by path and content, in a stable order (LC_ALL=C), plus the Go
# version, which changes the binary as much as a source does.
recipe=$(
	cd "$src" &&
		{
			go version
			find . -name '*.go' -o -name go.mod -o -name go.sum | LC_ALL=C sort | xargs sha256sum
		} | sha256sum | cut -d' ' -f1
)

if [[ -x $binary && -f $stamp && $(cat "$stamp") == "$recipe" ]]; then
	[[ ${1:-} == --check ]] && exit 0
	echo "setup: peering-operator/peering $VERSION is up to date ($binary)" >&2
	echo "$mirror"
	exit 0
fi
[[ ${1:-} == --check ]] && exit 3

mkdir -p "$dir"
echo "setup: building peering-operator/peering $VERSION from provider/terraform-provider-peering" >&2
# Build next to the target and rename, so an interrupted build never leaves a half-written provider behind;
# the stamp is written last, so a binary without its stamp is rebuilt. The temp name is per process: two
# builds at once (two test runs) each rename a whole binary.
tmp=$dir/.terraform-provider-peering.tmp.$$
trap 'rm -f "$tmp" "$stamp.tmp.$$"' EXIT
(cd "$src" &&
	GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o "$tmp" .)
mv "$tmp" "$binary"
echo "$recipe" >"$stamp.tmp.$$"
mv "$stamp.tmp.$$" "$stamp"
echo "setup: built $binary" >&2
echo "$mirror"
