#!/usr/bin/env bash
# install-eccodes.sh - ECMWF ecCodes from Debian, the reference decoder the general BUFR comparison
# test (test/bufr/eccodes-compare.test.ts) and the BUFR benchmark (bench/bufr-eccodes.ts) run
# against: libeccodes-tools (bufr_dump), python3-eccodes (used through /usr/bin/python3) and
# libeccodes-data (the definition files scripts/gen-bufr-eccodes-tables.ts reads).
# Run as root; idempotent; no stdin.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if /usr/bin/python3 -c 'import eccodes' 2>/dev/null && command -v bufr_dump >/dev/null; then
  echo "ecCodes already installed"
  exit 0
fi
apt-get install -y -qq --no-install-recommends libeccodes-tools python3-eccodes libeccodes-data
/usr/bin/python3 -c 'import eccodes; print("python3-eccodes", eccodes.__version__)'
