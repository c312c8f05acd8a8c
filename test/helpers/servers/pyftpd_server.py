#!/usr/bin/python3
"""pyftpdlib server for radarlib's Debian-server tests (test/helpers/debian-servers.ts).

Run with Debian's /usr/bin/python3 (python3-pyftpdlib; python3-openssl for --tls-cert).
One virtual user chrooted to --root, read-only unless --writable, passive ports --pasv MIN-MAX.
Options mirror what the other servers are configured with: a per-IP connection cap (421 past
it), a masquerade address announced in PASV replies, and explicit FTPS (optionally required on
the control and data connections).
"""
import argparse
import logging
import os
import sys

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True, help="file holding the password (kept off argv)")
    ap.add_argument("--pasv", required=True, help="MIN-MAX")
    ap.add_argument("--writable", action="store_true")
    ap.add_argument("--max-per-ip", type=int, default=0)
    ap.add_argument("--masquerade")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--tls-required", action="store_true")
    ap.add_argument("--rate-limit", type=int, default=0, help="download bytes/s per data connection")
    ap.add_argument("--local-times", action="store_true", help="LIST in the TZ of the process (use_gmt_times=False)")
    ap.add_argument("--list-only", action="store_true", help="no MLSD/MLST: clients must read LIST")
    a = ap.parse_args()

    # INFO, plus the debug trace of each received command (`<- RETR /x`, PASS masked), which
    # the tests read as the server's record of what clients asked (receivedCommands()).
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    for h in logging.getLogger().handlers:
        h.addFilter(lambda r: r.levelno >= logging.INFO or "] <- " in r.getMessage())
    with open(a.password_file, encoding="utf-8") as f:
        password = f.read().strip()

    auth = DummyAuthorizer()
    # e=cwd l=list r=retrieve; writable adds a=append d=delete f=rename m=mkdir w=store M=chmod
    perm = "elradfmwM" if a.writable else "elr"
    auth.add_user(a.user, password, os.path.abspath(a.root), perm=perm)

    handler = FTPHandler
    if a.tls_cert:
        from pyftpdlib.handlers import TLS_DTPHandler, TLS_FTPHandler

        class HandshakeTolerantDTPHandler(TLS_DTPHandler):
            # pyftpdlib 1.5.7 closes a data connection that turns readable before the transfer
            # command arrives, taking it for a disconnect. A TLS client that connects and starts
            # its handshake right after PASV/EPSV (as basic-ftp does, and RFC 4217 allows) hits
            # that: keep the channel while the TLS handshake is still in progress.
            def readable(self):
                if getattr(self, "_ssl_accepting", False):
                    return True
                return super().readable()

        class Handler(TLS_FTPHandler):
            dtp_handler = HandshakeTolerantDTPHandler

        handler = Handler
        handler.certfile = a.tls_cert
        handler.keyfile = a.tls_key or a.tls_cert
        handler.tls_control_required = a.tls_required
        handler.tls_data_required = a.tls_required
    if a.rate_limit:
        from pyftpdlib.handlers import ThrottledDTPHandler

        class Throttled(ThrottledDTPHandler):
            write_limit = a.rate_limit  # server -> client, i.e. downloads

        handler = type("ThrottledHandler", (handler,), {"dtp_handler": Throttled})
    handler.authorizer = auth
    lo, hi = (int(x) for x in a.pasv.split("-"))
    handler.passive_ports = range(lo, hi + 1)
    handler.banner = "pyftpdlib radarlib test server ready."
    handler.use_gmt_times = not a.local_times
    if a.list_only:
        handler.proto_cmds = {k: v for k, v in handler.proto_cmds.items() if k not in ("MLSD", "MLST")}
    if a.masquerade:
        handler.masquerade_address = a.masquerade

    server = FTPServer((a.bind, a.port), handler)
    server.max_cons = 256
    server.max_cons_per_ip = a.max_per_ip
    server.serve_forever(handle_exit=True)


if __name__ == "__main__":
    main()
