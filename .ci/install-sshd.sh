#!/usr/bin/env bash
# install-sshd.sh - install Debian's OpenSSH server and client tools for the SFTP tests
# (test/sftp/openssh.test.ts, test/sftp/daemon-servers.test.ts). Run as root; idempotent; no stdin.
# Only the binaries are used: test/helpers/openssh-server.ts starts its own sshd on a loopback port
# with its own config. The package's own service is not started (policy-rc.d) nor left running.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if [ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null && command -v ssh-keyscan >/dev/null; then
  echo "openssh-server: already installed"
  exit 0
fi
# Keep the maintainer scripts from starting the system sshd on port 22.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=1
fi
apt-get install -y -qq --no-install-recommends openssh-server openssh-client passwd >/dev/null
if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi
echo "openssh-server: $(/usr/sbin/sshd -V 2>&1 | head -n 1 || true)"
