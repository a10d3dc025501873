#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Misbehaving SMTP servers for the mxdetour test bed (smtp-sink covers the rest).

usage: fake_smtp.py MODE ADDR PORT

MODE
  starttls-garbage  greets, offers STARTTLS, answers "220 Ready to start TLS"
                    and then writes bytes that are not TLS, and closes
                    (the client logs a TLS handshake failure)
  silent            accepts the connection and never writes (greeting timeout)
  close             accepts and closes at once (lost connection before greeting)
"""
import socket
import socketserver
import sys
import time


class Handler(socketserver.StreamRequestHandler):
    timeout = 120

    def send(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        mode = self.server.mode
        if mode == "close":
            return
        if mode == "silent":
            try:
                while self.rfile.readline():
                    pass
            except (OSError, socket.timeout):
                pass
            return
        # starttls-garbage
        self.send("220 fake.test ESMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode(errors="replace").strip().upper()
            if cmd.startswith(("EHLO", "HELO")):
                self.send("250-fake.test")
                self.send("250-PIPELINING")
                self.send("250 STARTTLS")
            elif cmd == "STARTTLS":
                self.send("220 2.0.0 Ready to start TLS")
                time.sleep(0.2)
                self.wfile.write(b"this is not a TLS server hello\r\n" * 4)
                self.wfile.flush()
                time.sleep(0.5)
                return
            elif cmd == "QUIT":
                self.send("221 2.0.0 Bye")
                return
            else:
                self.send("250 2.0.0 Ok")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("starttls-garbage", "silent", "close"):
        sys.stderr.write(__doc__)
        return 2
    srv = Server((sys.argv[2], int(sys.argv[3])), Handler)
    srv.mode = sys.argv[1]
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
