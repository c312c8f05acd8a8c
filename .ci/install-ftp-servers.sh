#!/usr/bin/env bash
# install-ftp-servers.sh - install the real FTP servers the Debian-server test suite runs against
# (test/ftp/debian-servers.test.ts), from Debian's archive only. Run as root; idempotent; no stdin.
#
#   - python3-pyftpdlib (+ python3-openssl for its FTPS), openssl, lftp: installed with apt.
#   - vsftpd, proftpd-core (+ proftpd-mod-crypto for mod_tls) and pure-ftpd: all three "Conflict:
#     ftp-server", so apt could install only one of them. Their .debs are fetched with
#     `apt-get download` and unpacked with `dpkg-deb -x` under $PREFIX/<package> instead; only their
#     shared-library dependencies are apt-installed. Nothing is registered as a system service and no
#     maintainer script runs. test/helpers/debian-servers.ts starts them from there.
#
# Usage: .ci/install-ftp-servers.sh          (prints one line and exits fast when all is in place)
# Environment: RADARLIB_FTP_PREFIX (default /opt/radarlib-ftp)
set -euo pipefail

PREFIX="${RADARLIB_FTP_PREFIX:-/opt/radarlib-ftp}"
export DEBIAN_FRONTEND=noninteractive
# bump when this script changes what it puts under $PREFIX, so old trees are redone
STAMP_VERSION=1

APT_PACKAGES=(python3 python3-pyftpdlib python3-openssl openssl lftp ca-certificates passwd
  libpam-modules libpam-runtime)
# runtime libraries of the unpacked servers; the script also adds every lib* from their Depends
LIBS=(libcap2 libpam0g libssl3 libwrap0 libacl1 libcrypt1 libhiredis0.14 libidn2-0 libmemcached11
  libmemcachedutil2 libncursesw6 libpcre2-8-0 libpcre2-posix3 libtinfo6 zlib1g libsodium23)
SERVERS=(vsftpd proftpd-core proftpd-mod-crypto pure-ftpd)
# the binaries the test helper runs; all must exist and link for the fast path
BINARIES=("$PREFIX/vsftpd/usr/sbin/vsftpd" "$PREFIX/proftpd-core/usr/sbin/proftpd"
  "$PREFIX/proftpd-core/usr/lib/proftpd/mod_tls.so" "$PREFIX/pure-ftpd/usr/sbin/pure-ftpd"
  "$PREFIX/pure-ftpd/usr/bin/pure-pw")

log() { echo "install-ftp-servers: $*"; }
[ "$(id -u)" = 0 ] || { log "must run as root" >&2; exit 1; }

missing_apt() { # prints the packages of "$@" that are not installed
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
  done
}
unlinked() { # prints binaries that are missing or have an unresolved shared library
  local b
  for b in "${BINARIES[@]}"; do
    if [ ! -e "$b" ] || ldd "$b" 2>/dev/null | grep -q 'not found'; then echo "$b"; fi
  done
}

# ---- fast path: everything already in place -------------------------------------------------
if [ "$(cat "$PREFIX/.complete" 2>/dev/null || true)" = "$STAMP_VERSION" ] \
  && [ -z "$(missing_apt "${APT_PACKAGES[@]}" "${LIBS[@]}")" ] && [ -z "$(unlinked)" ]; then
  log "ok (already installed; servers under $PREFIX)"
  exit 0
fi

# ---- apt packages ----------------------------------------------------------------------------
apt_updated=0
apt_update() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
}
# an empty package list (fresh container) makes every `apt-cache show` fail
if ! apt-cache show python3-pyftpdlib >/dev/null 2>&1; then apt_update; fi

mapfile -t need < <(missing_apt "${APT_PACKAGES[@]}" "${LIBS[@]}")
if [ "${#need[@]}" -gt 0 ]; then
  log "apt-get install ${need[*]}"
  if ! apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; then
    apt_update # stale lists: retry once after an update
    apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

# ---- the three conflicting servers, unpacked under $PREFIX ----------------------------------
debs="$PREFIX/debs"
mkdir -p "$debs"
chmod 755 "$PREFIX" "$debs"
# a binary gone missing (or a half-finished earlier run): unpack everything again
if [ -n "$(unlinked)" ]; then rm -f "$PREFIX"/*/.unpacked-*; fi
for p in "${SERVERS[@]}"; do
  # proftpd-mod-crypto (mod_tls.so) goes into the proftpd-core tree so ModulePath finds it
  dest="$PREFIX/$p"
  [ "$p" = proftpd-mod-crypto ] && dest="$PREFIX/proftpd-core"
  stamp="$dest/.unpacked-$p"
  [ -e "$stamp" ] && continue
  if ! ls "$debs/${p}"_*.deb >/dev/null 2>&1; then
    # apt-get download writes into the current folder; as root it warns about the sandbox user
    (cd "$debs" && { apt-get download -q "$p" 2>&1 || { apt_update && apt-get download -q "$p" 2>&1; }; } \
      | grep -vE 'unsandboxed|^Get:|^Fetched' || true)
  fi
  deb=$(ls "$debs/${p}"_*.deb 2>/dev/null | sort -V | tail -n1)
  [ -n "$deb" ] || { log "could not download $p" >&2; exit 1; }
  mkdir -p "$dest"
  dpkg-deb -x "$deb" "$dest"
  touch "$stamp"
  log "unpacked $(basename "$deb") -> $dest"
done
# (only the server trees: $PREFIX also holds the vsftpd test user's root-only password file)
chmod -R go+rX "$PREFIX/vsftpd" "$PREFIX/proftpd-core" "$PREFIX/pure-ftpd"

# libraries named in the servers' own Depends (in case a point release adds one)
mapfile -t deplibs < <(for deb in "$debs"/*.deb; do dpkg-deb -f "$deb" Depends; done \
  | tr ',|' '\n\n' | sed -E 's/\(.*\)//; s/[[:space:]]//g; s/:any$//' \
  | grep -E '^(lib|zlib)' | grep -vE '^libc6$' | sort -u)
mapfile -t need < <(missing_apt "${deplibs[@]}")
if [ "${#need[@]}" -gt 0 ]; then
  log "apt-get install ${need[*]}"
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

bad=$(unlinked)
if [ -n "$bad" ]; then
  log "still missing or unlinkable:" >&2
  for b in $bad; do echo "  $b" >&2; [ -e "$b" ] && ldd "$b" | grep 'not found' >&2; done
  exit 1
fi
echo "$STAMP_VERSION" > "$PREFIX/.complete"
log "ok (servers under $PREFIX; $(/usr/bin/python3 -c 'import pyftpdlib; print("pyftpdlib", pyftpdlib.__ver__)'))"
