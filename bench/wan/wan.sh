#!/usr/bin/env bash
# bench/wan/wan.sh {up|down|status} - WAN emulation for `npm run bench` (run as root).
# Adapted from ../shared/bench/wan.sh; radarlib owns this copy (own names and addresses, so it
# never collides with the shared harness's namespace).
#
# Creates network namespace $NS and a point-to-point link to it:
#     host  rlw-h 10.201.0.1  <---link--->  rlw-n 10.201.0.2  (inside $NS)
# with delay $DELAY each way (default 25ms => 50 ms RTT) and rate $RATE per
# direction (default 100mbit; RATE= for none).  These addresses exist only on
# this link; nothing is routed beyond it.
#
# Two backends (BACKEND=auto picks the first that works):
#   netem: veth pair + `tc qdisc netem delay D rate R limit L` on both ends.
#   tun:   two TUN devices bridged by wan_forwarder.py (python3, user space),
#          which delays and rate-limits each direction.  Needed where the
#          kernel has no sch_netem (this Debian 12 VM: CONFIG_NET_SCH_NETEM
#          is not set, so `tc ... netem` fails with "qdisc kind is unknown").
#
# Run the FTP server inside the namespace, clients on the host:
#     bench/run.ts starts proftpd inside $NS bound to 10.201.0.2 (bench/lib/proftpd.ts)
#     lftp -u u,p -p PORT 10.201.0.2
# `up` is idempotent and verifies with ping.  `down` stops processes still
# running inside the namespace (the servers this harness started there) and the
# forwarder, then deletes the namespace and devices.
#
# Env: NS=radarlib-wan DELAY=25ms RATE=100mbit LIMIT=10000 (netem queue, packets)
#      QUEUE_MS=100 (tun backend drop-tail queue) BACKEND=auto|netem|tun
#      RADARLIB_BENCH_STATE=/tmp/radarlib-bench-state
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS=${NS:-radarlib-wan}
DELAY=${DELAY:-25ms}
RATE=${RATE-100mbit}
LIMIT=${LIMIT:-10000}
QUEUE_MS=${QUEUE_MS:-100}
BACKEND=${BACKEND:-auto}
H_IF=rlw-h N_IF=rlw-n H_IP=10.201.0.1 N_IP=10.201.0.2
STATE="${RADARLIB_BENCH_STATE:-/tmp/radarlib-bench-state}/wan-$NS"
FWD_PID="$STATE/forwarder.pid"

ns_exists() { ip netns list | grep -qE "^$NS( |$)"; }
fwd_alive() { [ -s "$FWD_PID" ] && [ -d "/proc/$(cat "$FWD_PID")" ] && grep -q wan_forwarder "/proc/$(cat "$FWD_PID")/cmdline" 2>/dev/null; }
netem_args() { local a=(limit "$LIMIT" delay "$DELAY"); [ -n "$RATE" ] && a+=(rate "$RATE"); echo "${a[@]}"; }

up_netem() {
  ip link add "$H_IF" type veth peer name "$N_IF"
  # shellcheck disable=SC2046
  if ! tc qdisc replace dev "$H_IF" root netem $(netem_args) 2>/dev/null; then
    ip link del "$H_IF"; return 1
  fi
  ip link set "$N_IF" netns "$NS"
  # shellcheck disable=SC2046
  ip netns exec "$NS" tc qdisc replace dev "$N_IF" root netem $(netem_args)
  ip addr replace "$H_IP/30" dev "$H_IF"
  ip -n "$NS" addr replace "$N_IP/30" dev "$N_IF"
  echo netem > "$STATE/backend"
}

up_tun() {
  rm -f "$FWD_PID"
  setsid -f /usr/bin/python3 "$HERE/wan_forwarder.py" --a "$H_IF" --b "$N_IF" \
    --delay "$DELAY" --rate "${RATE:-0}" --queue-ms "$QUEUE_MS" \
    --ready-file "$FWD_PID" --stats "$STATE/forwarder.stats" \
    >>"$STATE/forwarder.log" 2>&1 </dev/null
  for _ in $(seq 50); do [ -s "$FWD_PID" ] && break; sleep 0.1; done
  fwd_alive || { echo "wan: forwarder failed:"; tail "$STATE/forwarder.log"; exit 1; } >&2
  ip link set "$N_IF" netns "$NS"
  ip addr replace "$H_IP" peer "$N_IP" dev "$H_IF"
  ip -n "$NS" addr replace "$N_IP" peer "$H_IP" dev "$N_IF"
  ip link set "$H_IF" txqueuelen 1000
  ip -n "$NS" link set "$N_IF" txqueuelen 1000
  echo tun > "$STATE/backend"
}

up() {
  mkdir -p "$STATE"
  if ns_exists && { [ "$(cat "$STATE/backend" 2>/dev/null)" = netem ] || fwd_alive; }; then
    echo "wan: $NS already up ($(cat "$STATE/backend"))"
  else
    down >/dev/null 2>&1 || true
    mkdir -p "$STATE"
    ip netns add "$NS"
    case $BACKEND in
      netem) up_netem || { echo "wan: netem not available" >&2; exit 1; } ;;
      tun) up_tun ;;
      auto) up_netem || up_tun ;;
    esac
    ip link set "$H_IF" up
    ip -n "$NS" link set "$N_IF" up
    ip -n "$NS" link set lo up
    echo "wan: $NS up, backend $(cat "$STATE/backend"): $H_IP ($H_IF) <-> $N_IP ($N_IF in $NS), delay $DELAY each way, rate ${RATE:-unlimited}"
  fi
  check 5
}

# ping when installed (iputils-ping); bench/run.ts measures the RTT itself over TCP anyway
check() { if command -v ping >/dev/null; then ping -n -q -c "$1" -i 0.2 -W 2 "$N_IP" | tail -n 2; fi; }

down() {
  if ns_exists; then
    local pids; pids=$(ip netns pids "$NS" || true)
    if [ -n "$pids" ]; then
      echo "wan: stopping processes left in $NS: $pids"
      for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
      sleep 1
      for p in $(ip netns pids "$NS" || true); do kill -KILL "$p" 2>/dev/null || true; done
    fi
    ip netns del "$NS"
  fi
  if fwd_alive; then
    kill -TERM "$(cat "$FWD_PID")"
    for _ in $(seq 30); do fwd_alive || break; sleep 0.1; done
    tail -n 1 "$STATE/forwarder.log"
  fi
  rm -f "$FWD_PID" "$STATE/backend"
  ip link del "$H_IF" 2>/dev/null || true
  echo "wan: $NS down"
}

status() {
  ns_exists || { echo "wan: $NS absent"; exit 3; }
  echo "backend: $(cat "$STATE/backend" 2>/dev/null)"
  if fwd_alive; then kill -USR1 "$(cat "$FWD_PID")"; sleep 0.2; cat "$STATE/forwarder.stats"; fi
  check 3
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 {up|down|status}" >&2; exit 2 ;;
esac
