#!/usr/bin/env python3
"""wan_forwarder.py - user-space "wire" between two TUN devices, with delay and rate.

Adapted from ../shared/bench/wan_forwarder.py for bench/wan/wan.sh (radarlib owns this copy).

Used by bench/wan/wan.sh when the C twin (wan_forwarder.c) cannot be built (no gcc), because
this machine's kernel has no sch_netem (nor fq), so `tc qdisc ... netem delay` is impossible.
It costs 6-10 us of user CPU per packet besides the kernel's ~10-12 (the C one 0-3 us); wan.sh
runs it at a real-time priority (--rt-priority), without which, on a machine at load 8-16, it fell
behind: ping up to 63 ms and 83-94 % of the nominal rate in some probes.  Each IP packet read from one TUN
device is written to the other after

    departure = max(arrival, link_free) + len*8/rate      (serialisation, FIFO)
    delivery  = departure + delay                          (propagation)

independently per direction.  A packet that would wait longer than --queue-ms
in the FIFO is dropped (drop-tail, like a router queue).  Timer resolution is
~1 ms (epoll), so delivered delays are delay..delay+~1 ms.

Both TUN devices are created here (IFF_TUN|IFF_NO_PI, so 1500-byte MTU packets,
no offloads: realistic TCP segmentation); wan.sh then moves one of them into
the network namespace.  The process exits by itself after --max-seconds, on
SIGTERM/SIGINT, or when a TUN device disappears; it prints per-direction
packet/byte/drop counters to stderr on exit and to --stats on SIGUSR1/exit.
"""
import argparse
import errno
import fcntl
import heapq
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def tun_open(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def parse_rate(s):
    if not s or s in ("0", "none"):
        return 0.0
    s = s.lower()
    mult = {"kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "bit": 1.0}
    for suf, m in mult.items():
        if s.endswith(suf):
            return float(s[: -len(suf)]) * m
    return float(s)


def parse_ms(s):
    s = s.lower()
    if s.endswith("ms"):
        return float(s[:-2]) / 1000.0
    if s.endswith("us"):
        return float(s[:-2]) / 1e6
    if s.endswith("s"):
        return float(s[:-1])
    return float(s) / 1000.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True, help="TUN device name, side A")
    ap.add_argument("--b", required=True, help="TUN device name, side B")
    ap.add_argument("--delay", default="25ms", help="one-way delay, each direction")
    ap.add_argument("--rate", default="100mbit", help="per-direction rate, '' or 0 = unlimited")
    ap.add_argument("--queue-ms", type=float, default=100.0, help="max FIFO wait before drop")
    ap.add_argument("--max-seconds", type=float, default=4 * 3600)
    ap.add_argument("--ready-file")
    ap.add_argument("--stats")
    ap.add_argument("--tick-us", type=float, default=0,
                    help="ignored (the C forwarder's grid); this loop's timer is epoll's 1 ms")
    ap.add_argument("--rt-priority", type=int, default=0,
                    help="SCHED_FIFO priority (0: none), so the wire does not wait for other processes")
    a = ap.parse_args()
    if a.rt_priority > 0:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(a.rt_priority))
        except OSError as e:
            print(f"wan_forwarder: no real-time priority ({e}), nice -10 instead", file=sys.stderr)
            os.nice(-10)

    delay = parse_ms(a.delay)
    rate = parse_rate(a.rate)
    qmax = a.queue_ms / 1000.0
    fa, fb = tun_open(a.a), tun_open(a.b)
    other = {fa: fb, fb: fa}
    name = {fa: f"{a.a}->{a.b}", fb: f"{a.b}->{a.a}"}
    link_free = {fa: 0.0, fb: 0.0}
    st = {fd: {"pkts": 0, "bytes": 0, "drops": 0} for fd in (fa, fb)}
    heap = []
    seq = 0
    stop = [False]

    def dump(*_):
        txt = " ".join(f"{name[fd]}: pkts={s['pkts']} bytes={s['bytes']} drops={s['drops']};"
                       for fd, s in st.items())
        if a.stats:
            with open(a.stats, "w") as f:
                f.write(txt + "\n")
        return txt

    def on_term(*_):
        stop[0] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGUSR1, dump)

    ep = select.epoll()
    ep.register(fa, select.EPOLLIN)
    ep.register(fb, select.EPOLLIN)
    if a.ready_file:
        with open(a.ready_file, "w") as f:
            f.write(f"{os.getpid()}\n")
    deadline = time.monotonic() + a.max_seconds
    mono = time.monotonic
    while not stop[0]:
        now = mono()
        if now > deadline:
            break
        while heap and heap[0][0] <= now:
            _, _, out, pkt = heapq.heappop(heap)
            try:
                os.write(out, pkt)
            except OSError as e:  # device down / queue full: the packet is lost
                if e.errno not in (errno.EAGAIN, errno.EIO, errno.ENOBUFS, errno.EINVAL):
                    raise
        timeout = max(0.0, heap[0][0] - mono()) if heap else 0.5
        try:
            events = ep.poll(timeout)
        except InterruptedError:
            continue
        for fd, ev in events:
            if ev & (select.EPOLLERR | select.EPOLLHUP):
                stop[0] = True
                break
            for _ in range(256):
                try:
                    pkt = os.read(fd, 65535)
                except BlockingIOError:
                    break
                except OSError as e:
                    if e.errno == errno.EIO:  # interface down for a moment
                        break
                    raise
                now = mono()
                s = st[fd]
                if rate:
                    start = link_free[fd] if link_free[fd] > now else now
                    if start - now > qmax:
                        s["drops"] += 1
                        continue
                    depart = start + len(pkt) * 8.0 / rate
                    link_free[fd] = depart
                else:
                    depart = now
                s["pkts"] += 1
                s["bytes"] += len(pkt)
                seq += 1
                heapq.heappush(heap, (depart + delay, seq, other[fd], pkt))
    print("wan_forwarder exit: " + dump(), file=sys.stderr)


if __name__ == "__main__":
    main()
