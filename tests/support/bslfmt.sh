#!/usr/bin/env bash
# Prints the path of the 1C code formatter bslfmt (PyPI), installing it into
# target/py-venv first when that venv lacks this exact version. Pinned so that
# a new release cannot change what counts as formatted: tests/run.sh checks
# the samples with it and package.sh formats the extension's modules with it.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=0.27.0
venv=target/py-venv
if ! "$venv/bin/bslfmt" --version 2>/dev/null | grep -qx "bslfmt $version"; then
    echo "==> installing bslfmt $version into $venv" >&2
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q "bslfmt==$version" >&2
fi
echo "$PWD/$venv/bin/bslfmt"
