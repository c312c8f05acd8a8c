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
#   tun:   two TUN devices bridged by a user-space forwarder, which delays and
#          rate-limits each direction (drop-tail queue of QUEUE_MS).  Needed where
#          the kernel has no sch_netem (this VM: CONFIG_NET_SCH_NETEM is not set,
#          so `tc ... netem` fails with "qdisc kind is unknown"; tbf and htb exist
#          but cannot delay).  The forwarder is wan_forwarder.c, compiled with gcc
#          on `up` into $RADARLIB_BENCH_STATE (once per version of the source), or,
#          without gcc, wan_forwarder.py (FORWARDER=auto|c|python); it runs at the
#          real-time priority RT_PRIO (SCHED_FIFO; 0 = none), so a loaded machine
#          does not slow the wire.
#
# Measured (bench/wan/capacity.ts: plain TCP, 1/5/16/32 streams; 2026-12-02, this
# 2-core VM shared with other sessions' tests): the old set-up, the Python
# forwarder at normal priority, carried the nominal payload rate (96.5 Mbit/s)
# once TCP was out of slow start, but under load fell behind: at load 8-16 some
# probes got 83-94 % of it and ping reached 56-63 ms.  The C forwarder at
# real-time priority, load 3-14: 96.7-100 % in every probe, idle ping 49.8-51.7 ms
# (avg 49.9-50.1), ~15 us of CPU per packet (mostly the kernel's TCP receive path
# inside its write(), which any forwarder pays).  What a TCP transfer gets from
# its first byte to its last is lower (86-95 % for the bench's 1-32 MB streams,
# 97 % for 96 MB) on any link of this size: slow start takes ~6 round trips to
# fill 50 ms x 100 Mbit/s, and BBR's start-up overshoots the 100 ms queue.
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
#      FORWARDER=auto|c|python RT_PRIO=10 TICK_US=500 (C forwarder's grid: jitter ±TICK_US/2)
#      (with RATE= (unlimited) the forwarder can keep a core busy: use RT_PRIO=0 then)
#      H_IF=rlw-h N_IF=rlw-n H_IP=10.201.0.1 N_IP=10.201.0.2 (a second, private link: change all)
#      RADARLIB_BENCH_STATE=/tmp/radarlib-bench-state
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS=${NS:-radarlib-wan}
DELAY=${DELAY:-25ms}
RATE=${RATE-100mbit}
LIMIT=${LIMIT:-10000}
QUEUE_MS=${QUEUE_MS:-100}
BACKEND=${BACKEND:-auto}
FORWARDER=${FORWARDER:-auto}
RT_PRIO=${RT_PRIO:-10}
# Device names and addresses: change them (all four, plus NS) only for a second, private link
# beside the standard one, e.g. to develop the emulator while others benchmark on the standard.
H_IF=${H_IF:-rlw-h} N_IF=${N_IF:-rlw-n} H_IP=${H_IP:-10.201.0.1} N_IP=${N_IP:-10.201.0.2}
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

# The C forwarder, compiled once per version of its source (named by the source's hash, so
# checkouts of different versions sharing the state folder never run each other's) into the state
# folder (a temporary name then a rename, so two links coming up at once never run a half-written
# binary). Prints its path; fails when there is no gcc or it does not compile.
build_c_forwarder() {
  local src="$HERE/wan_forwarder.c" bin
  [ -r "$src" ] || { echo "wan: no $src" >&2; return 1; }
  bin="${RADARLIB_BENCH_STATE:-/tmp/radarlib-bench-state}/wan_forwarder-$(sha256sum "$src" | cut -c1-12)"
  if [ ! -x "$bin" ]; then
    command -v gcc >/dev/null || { echo "wan: no gcc" >&2; return 1; }
    gcc -O2 -Wall -o "$bin.$$" "$src" >&2 || { rm -f "$bin.$$"; return 1; }
    mv -f "$bin.$$" "$bin"
  fi
  echo "$bin"
}

forwarder_cmd() {
  local bin
  case $FORWARDER in
    c) bin=$(build_c_forwarder) || { echo "wan: FORWARDER=c but the C forwarder does not build" >&2; return 1; }
       echo "$bin" ;;
    python) echo /usr/bin/python3 "$HERE/wan_forwarder.py" ;;
    auto) if bin=$(build_c_forwarder); then echo "$bin"; else
            echo "wan: no C forwarder (above), using wan_forwarder.py: its timers round up to 1 ms (RTT +0-1 ms) and it needs more CPU per packet" >&2
            echo /usr/bin/python3 "$HERE/wan_forwarder.py"
          fi ;;
    *) echo "wan: FORWARDER=$FORWARDER (auto|c|python)" >&2; return 1 ;;
  esac
}

up_tun() {
  rm -f "$FWD_PID"
  local cmd; cmd=$(forwarder_cmd) || exit 1
  # shellcheck disable=SC2086  # cmd is a path, or the interpreter and the script's path
  setsid -f $cmd --a "$H_IF" --b "$N_IF" \
    --delay "$DELAY" --rate "${RATE:-0}" --queue-ms "$QUEUE_MS" --rt-priority "$RT_PRIO" ${TICK_US:+--tick-us "$TICK_US"} \
    --ready-file "$FWD_PID" --stats "$STATE/forwarder.stats" \
    >>"$STATE/forwarder.log" 2>&1 </dev/null
  for _ in $(seq 50); do [ -s "$FWD_PID" ] && break; sleep 0.1; done
  fwd_alive || { echo "wan: forwarder failed:"; tail "$STATE/forwarder.log"; exit 1; } >&2
  ip link set "$N_IF" netns "$NS"
  ip addr replace "$H_IP" peer "$N_IP" dev "$H_IF"
  ip -n "$NS" addr replace "$N_IP" peer "$H_IP" dev "$N_IF"
  ip link set "$H_IF" txqueuelen 1000
  ip -n "$NS" link set "$N_IF" txqueuelen 1000
  case $cmd in *python3*) echo tun-python ;; *) echo tun-c ;; esac > "$STATE/backend"
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
