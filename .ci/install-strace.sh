#!/usr/bin/env bash
# install-strace.sh - install strace for test/ledger/sqlite-durability.test.ts, which counts the
# SQLite ledger's fsync calls per phase (the test skips, saying why, without it or when the
# container refuses ptrace). Run as root; idempotent; no stdin.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if command -v strace >/dev/null; then
  echo "strace: already installed"
  exit 0
fi
apt-get install -y -qq --no-install-recommends strace >/dev/null
echo "strace: $(strace -V | head -n 1)"
