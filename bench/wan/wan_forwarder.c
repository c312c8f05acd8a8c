/*
 * wan_forwarder.c - user-space "wire" between two TUN devices, with delay and rate.
 *
 * The C twin of wan_forwarder.py (same options, same model, same stats line), which bench/wan/wan.sh
 * compiles on `up` and prefers: this kernel has no sch_netem, so the link's delay has to be made in
 * user space. The Python loop costs 6-10 us of user CPU per packet (plus ~10-12 us in the kernel
 * that any forwarder pays: the write() runs the receiving TCP stack) and rounds its timers to 1 ms;
 * at normal priority on the busy 2-core machine it fell behind (load 8-16: 83-94 % of the rate in
 * some probes, ping up to 63 ms). This one costs 0-3 us of user CPU per packet, works on a 500 us
 * grid (--tick-us) with the delay compensated, and wan.sh runs it at a real-time priority so other
 * processes' load does not stretch the link (docs/PERFORMANCE.md, "Session 5: the WAN emulator's
 * capacity").
 *
 * Model, per direction, for each IP packet read from one TUN device at time `now`:
 *
 *     start     = max(now, link_free)            (FIFO: wait for the packets before it)
 *     drop it if start - now > queue            (drop-tail: the router's queue is full)
 *     link_free = start + len*8/rate             (serialisation at the link's rate)
 *     delivery  = link_free + delay              (propagation)
 *
 * then it is written to the other TUN device at `delivery`. The delay is the same for every packet,
 * so deliveries come out in order and each direction is a plain FIFO ring. Both TUN devices are
 * created here (IFF_TUN|IFF_NO_PI: 1500-byte MTU packets as the kernel sends them, no offloads, so
 * TCP segments as on a real link); wan.sh then moves one into the network namespace.
 *
 * Exits after --max-seconds, on SIGTERM/SIGINT, or when a TUN device goes away; prints per-direction
 * packet/byte/drop counters to stderr on exit and to --stats on SIGUSR1 and exit.
 *
 *   gcc -O2 -Wall -o wan_forwarder wan_forwarder.c
 *   wan_forwarder --a rlw-h --b rlw-n --delay 25ms --rate 100mbit --queue-ms 100 \
 *                 [--max-seconds 14400] [--ready-file F] [--stats F] [--rt-priority 10]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* A packet's room: the link's MTU is 1500 (wan.sh never raises it); a longer packet is cut to this
 * by read() and so dropped as malformed by the receiver, which the stats would show as bytes=SLOT. */
#define SLOT 2048
/* Packets held per direction (in the queue or on the wire): 100 ms of queue + 25 ms of delay at
 * 100 Mbit/s is ~1,050 full packets; acknowledgements are smaller and fewer. Beyond this: dropped. */
#define RING 8192

typedef struct {
    int in, out;            /* read from `in`, write to `out` */
    char name[40];
    uint64_t link_free;     /* ns (CLOCK_MONOTONIC): when the link finishes the last accepted packet */
    uint64_t pkts, bytes, drops, lost;
    /* the FIFO: packets accepted, not yet delivered */
    unsigned head, count;
    uint64_t due[RING];
    uint16_t len[RING];
    char *buf;              /* RING * SLOT bytes */
} direction;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int tun_open(const char *name) {
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) { perror("open /dev/net/tun"); exit(1); }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) { fprintf(stderr, "TUNSETIFF %s: %s\n", name, strerror(errno)); exit(1); }
    return fd;
}

/* "100mbit", "1gbit", "500kbit", "12345" (bit/s); "", "0", "none": unlimited (0). */
static double parse_rate(const char *s) {
    if (!*s || !strcmp(s, "0") || !strcasecmp(s, "none")) return 0;
    char *end;
    double v = strtod(s, &end);
    if (!strcasecmp(end, "kbit")) return v * 1e3;
    if (!strcasecmp(end, "mbit")) return v * 1e6;
    if (!strcasecmp(end, "gbit")) return v * 1e9;
    if (!*end || !strcasecmp(end, "bit")) return v;
    fprintf(stderr, "bad rate '%s'\n", s);
    exit(2);
}

/* "25ms", "500us", "1s", "25" (ms) -> ns */
static uint64_t parse_time(const char *s) {
    char *end;
    double v = strtod(s, &end);
    if (!strcasecmp(end, "ms") || !*end) return (uint64_t)(v * 1e6);
    if (!strcasecmp(end, "us")) return (uint64_t)(v * 1e3);
    if (!strcasecmp(end, "s")) return (uint64_t)(v * 1e9);
    fprintf(stderr, "bad time '%s'\n", s);
    exit(2);
}

static direction dir[2];
static const char *stats_path;

static void dump(FILE *also) {
    char line[512];
    int n = 0;
    for (int i = 0; i < 2; i++)
        n += snprintf(line + n, sizeof line - n, "%s%s: pkts=%llu bytes=%llu drops=%llu;", i ? " " : "",
                      dir[i].name, (unsigned long long)dir[i].pkts, (unsigned long long)dir[i].bytes,
                      (unsigned long long)(dir[i].drops + dir[i].lost));
    if (stats_path) {
        FILE *f = fopen(stats_path, "w");
        if (f) { fprintf(f, "%s\n", line); fclose(f); }
    }
    if (also) fprintf(also, "wan_forwarder exit: %s\n", line);
}

/* Reads what `d->in` has (at most `budget` packets, so neither direction starves the other), as
 * packets that reached the link at `arrival`; returns how many it read, -1 on a hard error. */
static int take(direction *d, uint64_t arrival, double ns_per_byte, uint64_t delay, uint64_t queue, int budget) {
    int got = 0;
    while (got < budget) {
        static char scratch[SLOT]; /* where a packet goes that the full ring will drop */
        unsigned slot = (d->head + d->count) % RING;
        char *p = d->count == RING ? scratch : d->buf + (size_t)slot * SLOT;
        ssize_t n = read(d->in, p, SLOT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) break;
            if (errno == EIO) break; /* the device is down for a moment (moved to the namespace) */
            return -1;
        }
        if (n == 0) break;
        got++;
        uint64_t start = d->link_free > arrival ? d->link_free : arrival;
        if (d->count == RING || start - arrival > queue) { d->drops++; continue; }
        d->link_free = start + (uint64_t)(n * ns_per_byte);
        d->due[slot] = d->link_free + delay;
        d->len[slot] = (uint16_t)n;
        d->count++;
        d->pkts++;
        d->bytes += (uint64_t)n;
    }
    return got;
}

/* Writes every packet whose delivery time has come; returns how many. */
static int deliver(direction *d, uint64_t now) {
    int n = 0;
    while (d->count && d->due[d->head] <= now) {
        if (write(d->out, d->buf + (size_t)d->head * SLOT, d->len[d->head]) < 0) d->lost++;
        d->head = (d->head + 1) % RING;
        d->count--;
        n++;
    }
    return n;
}

int main(int argc, char **argv) {
    const char *a = NULL, *b = NULL, *delay_s = "25ms", *rate_s = "100mbit", *ready = NULL;
    double queue_ms = 100, max_seconds = 4 * 3600;
    int rt_priority = 0;
    double tick_us = 500;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--a")) a = v;
        else if (!strcmp(k, "--b")) b = v;
        else if (!strcmp(k, "--delay")) delay_s = v;
        else if (!strcmp(k, "--rate")) rate_s = v;
        else if (!strcmp(k, "--queue-ms")) queue_ms = atof(v);
        else if (!strcmp(k, "--max-seconds")) max_seconds = atof(v);
        else if (!strcmp(k, "--ready-file")) ready = v;
        else if (!strcmp(k, "--stats")) stats_path = v;
        else if (!strcmp(k, "--rt-priority")) rt_priority = atoi(v);
        else if (!strcmp(k, "--tick-us")) tick_us = atof(v);
        else { fprintf(stderr, "unknown option %s\n", k); return 2; }
    }
    if (!a || !b) { fprintf(stderr, "usage: %s --a IF --b IF [--delay 25ms] [--rate 100mbit] ...\n", argv[0]); return 2; }
    uint64_t delay = parse_time(delay_s), queue = (uint64_t)(queue_ms * 1e6), tick = (uint64_t)(tick_us * 1e3);
    /* Work happens on a grid of `tick` ns while packets are on the wire (below): a wake-up per
     * packet cost this VM ~3x the CPU (a context switch and a timer reprogramming each). A packet is
     * then delivered 0..tick after its time, tick/2 on average, which the delay gives back so the
     * mean stays `delay` (±tick/2 of jitter, like a NIC's interrupt coalescing). */
    if (tick < 1000) tick = 1000;
    delay = delay > tick / 2 ? delay - tick / 2 : 0;
    double rate = parse_rate(rate_s), ns_per_byte = rate > 0 ? 8e9 / rate : 0;

    /* The wire must not wait for the endpoints' processes: a real-time priority when allowed (it
     * sleeps between packets, ~20 % of a core at 100 Mbit/s), else the highest nice level. No timer
     * slack: the kernel would otherwise round deliveries up by 50 us. */
    if (rt_priority > 0) {
        struct sched_param sp = {.sched_priority = rt_priority};
        if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) {
            fprintf(stderr, "wan_forwarder: no real-time priority (%s), nice -10 instead\n", strerror(errno));
            setpriority(PRIO_PROCESS, 0, -10);
        }
    }
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

    int fa = tun_open(a), fb = tun_open(b);
    dir[0] = (direction){.in = fa, .out = fb};
    dir[1] = (direction){.in = fb, .out = fa};
    snprintf(dir[0].name, sizeof dir[0].name, "%s->%s", a, b);
    snprintf(dir[1].name, sizeof dir[1].name, "%s->%s", b, a);
    for (int i = 0; i < 2; i++)
        if (!(dir[i].buf = malloc((size_t)RING * SLOT))) { perror("malloc"); return 1; }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (sfd < 0 || tfd < 0 || ep < 0) { perror("signalfd/timerfd/epoll"); return 1; }
    int fds[4] = {fa, fb, sfd, tfd};
    for (int i = 0; i < 4; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0) { perror("epoll_ctl"); return 1; }
    }
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (f) { fprintf(f, "%d\n", (int)getpid()); fclose(f); }
    }

    /* Two modes. Idle (nothing on the wire): sleep until a TUN device has a packet, which reaches
     * the link the moment it is read. Busy: a periodic timer every `tick`; each tick reads both
     * devices (the TUN devices do not wake us: at 100 Mbit/s that is a wake-up per packet) and
     * delivers what is due. A packet read at a tick arrived since the previous one: it is counted
     * as arriving half-way between, so the link neither loses nor gains time on average. */
    uint64_t deadline = now_ns() + (uint64_t)(max_seconds * 1e9), last_sweep = 0;
    int stop = 0, busy = 0;
    while (!stop) {
        uint64_t now = now_ns();
        if (now > deadline) break;
        uint64_t since = now - last_sweep;
        uint64_t arrival = busy ? now - (since < tick ? since : tick) / 2 : now;
        last_sweep = now;
        int got = 0, delivered = 0;
        for (int i = 0; i < 2; i++) {
            int g = take(&dir[i], arrival, ns_per_byte, delay, queue, 1024);
            if (g < 0) { perror("read"); stop = 1; }
            got += g > 0 ? g : 0;
        }
        for (int i = 0; i < 2; i++) delivered += deliver(&dir[i], now);
        /* What the deliveries made the receiving stacks send at once (TCP acknowledgements, ping
         * replies) is already in the devices, and arrived now, not half a tick ago. */
        for (int i = 0; delivered && i < 2; i++) {
            int g = take(&dir[i], now, ns_per_byte, delay, queue, 1024);
            if (g < 0) { perror("read"); stop = 1; }
            got += g > 0 ? g : 0;
        }
        int want_busy = got > 0 || dir[0].count > 0 || dir[1].count > 0;
        if (want_busy != busy) {
            busy = want_busy;
            for (int i = 0; i < 2; i++) {
                struct epoll_event ev = {.events = busy ? 0 : EPOLLIN, .data.fd = dir[i].in};
                epoll_ctl(ep, EPOLL_CTL_MOD, dir[i].in, &ev);
            }
            uint64_t first = (now / tick + 1) * tick; /* ticks on a fixed grid */
            struct itimerspec its = {0};
            if (busy) {
                its.it_value.tv_sec = (time_t)(first / 1000000000ull);
                its.it_value.tv_nsec = (long)(first % 1000000000ull);
                its.it_interval.tv_sec = (time_t)(tick / 1000000000ull);
                its.it_interval.tv_nsec = (long)(tick % 1000000000ull);
            }
            timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
        }
        struct epoll_event evs[4];
        int n = epoll_wait(ep, evs, 4, 1000);
        if (n < 0 && errno != EINTR) { perror("epoll_wait"); break; }
        for (int e = 0; e < n; e++) {
            int fd = evs[e].data.fd;
            if (fd == tfd) {
                uint64_t x;
                if (read(tfd, &x, sizeof x) < 0) { /* nothing expired after all */ }
            } else if (fd == sfd) {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                    if (si.ssi_signo == SIGUSR1) dump(NULL);
                    else stop = 1;
                }
            } else if (evs[e].events & (EPOLLERR | EPOLLHUP)) {
                stop = 1; /* a TUN device went away */
            } /* a TUN device is readable: the sweep at the top of the loop reads it */
        }
    }
    dump(stderr);
    return 0;
}
