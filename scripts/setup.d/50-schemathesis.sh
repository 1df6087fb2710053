#!/usr/bin/env bash
# schemathesis (the API fuzzer) and openapi-spec-validator for controller/test/api/fuzz.test.ts, into a virtual
# environment at
#   ${PEERING_SCHEMATHESIS_CACHE:-$HOME/.cache/peering-operator/schemathesis}/<recipe hash>/
# from the pinned test-support/schemathesis/requirements.txt. Nothing is done when that environment exists.
# CPython 3.12 or newer: on 3.11 the fuzzer can crash on a CPython bug (gh-106905).
#
#   50-schemathesis.sh              install if missing; print the environment's path on stdout (last line)
#   50-schemathesis.sh --print-path print the path without installing
set -euo pipefail
here=$(cd "$(dirname "$0")/../../test-support/schemathesis" && pwd)
recipe=$(cat "$here/requirements.txt" "$0" | sha256sum | cut -c1-16)
dir=${PEERING_SCHEMATHESIS_CACHE:-$HOME/.cache/peering-operator/schemathesis}/$recipe

if [[ ${1:-} == --print-path ]]; then
	echo "$dir"
	exit 0
fi
if [[ -f $dir/.complete ]]; then
	echo "setup: schemathesis already installed ($dir)" >&2
	echo "$dir"
	exit 0
fi

# The newest CPython >= 3.12 on the machine: pyenv's, then the system's; else Debian's python3.13 if it has one.
python=
for candidate in "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 "$(command -v python3.13 || true)" \
	"$(command -v python3.12 || true)" "$(command -v python3 || true)"; do
	[[ -n $candidate && -x $candidate ]] || continue
	if "$candidate" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2> /dev/null; then
		python=$candidate
	fi
done
if [[ -z $python ]] && command -v apt-get > /dev/null; then
	apt-get install -y --no-install-recommends python3.13 python3.13-venv > /dev/null 2>&1 || true
	python=$(command -v python3.13 || true)
fi
if [[ -z $python ]]; then
	echo "50-schemathesis.sh: no CPython 3.12 or newer found (pyenv or python3.12/3.13); the fuzz test needs one" >&2
	exit 1
fi

# A virtual environment cannot be moved (its scripts name their interpreter by path): it is built in place and
# marked complete at the end, so an interrupted install is redone.
rm -rf "$dir"
"$python" -m venv "$dir"
"$dir/bin/pip" install --quiet --no-deps --requirement "$here/requirements.txt"
"$dir/bin/pip" check > /dev/null
touch "$dir/.complete"
echo "setup: schemathesis $("$dir/bin/st" --version 2>&1 | tail -1) with $("$python" --version) in $dir" >&2
echo "$dir"
