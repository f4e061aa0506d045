#!/usr/bin/env bash
# `make test-compat`: build peer/ (the book's d2l 0.17.6, benchmarks/peer_env.sh), then run
# tests_compat/ inside it.  If peer/ cannot be built here, run the same module with the
# project's Python, where it is skipped with the reason (never passed).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
mkdir -p build
if bash benchmarks/peer_env.sh > build/peer_env.log 2>&1; then
    tail -1 build/peer_env.log
    # the book's own code triggers torch warnings; those are the book's, not under test
    PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" MPLBACKEND=Agg exec peer/venv/bin/python \
        -m pytest tests_compat -p no:cacheprovider -o addopts= --rootdir=. -ra --color=no \
        -W "ignore::UserWarning:d2l.torch"
fi
status=$(grep "peer environment not built" build/peer_env.log | tail -1)
status=${status:-"peer environment could not be built: see build/peer_env.log"}
echo "$status"
D2L_PEER_STATUS="$status" exec "$PY" -m pytest tests_compat -p no:cacheprovider -o addopts= \
    --rootdir=. -ra --color=no
