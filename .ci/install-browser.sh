#!/usr/bin/env bash
# install-browser.sh - install Debian's Chromium for the status-page browser tests
# (test/web/browser.test.ts drives /usr/bin/chromium with playwright-core). Run as root; idempotent;
# no stdin. Prints one line and exits fast when Chromium is already installed and starts.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

log() { echo "install-browser: $*"; }
BIN=/usr/bin/chromium
# fonts so the page and its screenshot render text
PACKAGES=(chromium fonts-liberation)

missing_apt() { # prints the packages of "$@" that are not installed
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
  done
}

mapfile -t need < <(missing_apt "${PACKAGES[@]}")
if [ "${#need[@]}" -eq 0 ] && [ -x "$BIN" ]; then
  log "ok (already installed: $("$BIN" --version 2>/dev/null || echo chromium))"
  exit 0
fi
[ "$(id -u)" = 0 ] || { log "must run as root to install ${need[*]}" >&2; exit 1; }

# an empty package list (fresh container) makes `apt-cache show` fail
if ! apt-cache show chromium >/dev/null 2>&1; then apt-get update -qq; fi
log "apt-get install ${need[*]}"
if ! apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; then
  apt-get update -qq # stale lists: retry once after an update
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
[ -x "$BIN" ] || { log "$BIN missing after install" >&2; exit 1; }
log "ok ($("$BIN" --version 2>/dev/null || echo chromium))"
