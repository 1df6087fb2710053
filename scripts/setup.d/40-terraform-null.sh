#!/usr/bin/env bash
# hashicorp/null for the opt-in null_resource backing of the Terraform constructs, built from Go modules into a
# Terraform filesystem mirror, because the Terraform registry is not reachable from our machines:
#   ${PEERING_TERRAFORM_MIRROR:-$HOME/.cache/peering-operator/terraform-mirror}/
#     registry.terraform.io/hashicorp/null/1.0.0/<os>_<arch>/terraform-provider-null_v1.0.0
# Nothing is done when that binary is already there.
#
# The Go module proxy holds only v1.0.0 of github.com/hashicorp/terraform-provider-null (later tags are not
# Go-module versions), and that version needs the plugin SDK of github.com/hashicorp/terraform v0.12.29, which
# serves plugin protocol 5: Terraform 1.x runs it. The pins live in provider/terraform-null/go.mod and go.sum.
# Terraform finds the mirror through a CLI configuration file (TF_CLI_CONFIG_FILE) with
#   provider_installation { filesystem_mirror { path = "<mirror>" include = ["registry.terraform.io/hashicorp/null"] } }
# which provider/test/support/terraform.ts writes for the tests.
#
#   40-terraform-null.sh              build if missing; print the mirror's path on stdout (last line)
#   40-terraform-null.sh --print-path print the mirror's path without building
#   40-terraform-null.sh --check      exit 0 if built, 3 if not
set -euo pipefail

VERSION=1.0.0
mirror=${PEERING_TERRAFORM_MIRROR:-$HOME/.cache/peering-operator/terraform-mirror}

case ${1:-} in
--print-path)
	echo "$mirror"
	exit 0
	;;
--check | "") ;;
*)
	echo "usage: 40-terraform-null.sh [--print-path|--check]" >&2
	exit 2
	;;
esac

if ! command -v go >/dev/null 2>&1; then
	[[ ${1:-} == --check ]] && exit 3
	echo "setup: go is missing; install Go >= 1.22 to build hashicorp/null for the Terraform tests" >&2
	exit 1
fi

platform="$(go env GOOS)_$(go env GOARCH)"
dir=$mirror/registry.terraform.io/hashicorp/null/$VERSION/$platform
binary=$dir/terraform-provider-null_v$VERSION

if [[ -x $binary ]]; then
	[[ ${1:-} == --check ]] && exit 0
	echo "setup: hashicorp/null $VERSION already built ($binary)" >&2
	echo "$mirror"
	exit 0
fi
[[ ${1:-} == --check ]] && exit 3

here=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir"
echo "setup: building hashicorp/null $VERSION from Go modules (a few minutes the first time)" >&2
# Build next to the target and rename, so an interrupted build never leaves a half-written provider behind.
(cd "$here/provider/terraform-null" &&
	GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -o "$binary.tmp" github.com/hashicorp/terraform-provider-null)
mv "$binary.tmp" "$binary"
echo "setup: built $binary" >&2
echo "$mirror"
