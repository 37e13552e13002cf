"""fake_server.py - what may answer on a broker's port instead of an AMQP
0-9-1 broker, for the tests of connection errors (Python 3 standard library
only). Listens on 127.0.0.1, writes the port to PORTFILE once listening, and
serves every connection the same way until killed:

  fake_server.py PORTFILE silent
      accepts and reads, never answers (a stalled service, a black hole)
  fake_server.py PORTFILE http
      a real HTTP server (http.server): answers what it can parse
  fake_server.py PORTFILE tls CERT KEY
      a TLS server (TLS 1.2 or later, CERT and KEY in PEM) that hangs up on
      anything but a TLS handshake, as OpenSSL and RabbitMQ's TLS listener do;
      after a handshake it reads and never answers
  fake_server.py PORTFILE garbage
      sends some bytes that are no protocol at all, then waits
  fake_server.py PORTFILE amqp10
      answers with the protocol header of AMQP 1.0 and hangs up, as an
      AMQP 1.0-only broker does when asked for 0-9-1
  fake_server.py PORTFILE forward TARGET_PORT
      a plain TCP relay to 127.0.0.1:TARGET_PORT (the real broker)
  fake_server.py PORTFILE tlsforward TARGET_PORT CERT KEY
      a TLS terminator relaying to 127.0.0.1:TARGET_PORT: amqps:// in front
      of the plain broker; says "relaying a TLS connection" on stderr for
      each client whose handshake succeeded

--port N before PORTFILE listens on N instead of a port the kernel picks.
"""
import http.server
import os
import select
import socket
import ssl
import sys
import threading


def hold(c):
    """Read until the peer goes; never answer."""
    try:
        while c.recv(4096):
            pass
    except OSError:
        pass
    c.close()


def forward(c, target):
    """Relay between c and 127.0.0.1:target in this one thread (an SSL
    socket must not be read and written by two threads at once)."""
    try:
        t = socket.create_connection(("127.0.0.1", target))
    except OSError:
        c.close()
        return
    try:
        while True:
            ready, _, _ = select.select([c, t], [], [])
            for s in ready:
                other = t if s is c else c
                while True:
                    d = s.recv(65536)
                    if not d:
                        raise EOFError
                    other.sendall(d)
                    if not (isinstance(s, ssl.SSLSocket) and s.pending()):
                        break
    except (OSError, EOFError):
        pass
    for s in (c, t):
        try:
            s.close()
        except OSError:
            pass


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


def tls_accept(ctx, c):
    try:
        return ctx.wrap_socket(c, server_side=True)
    except (OSError, ssl.SSLError):
        c.close()  # unread data left: the peer sees a reset, as from OpenSSL
        return None


def main():
    args = sys.argv[1:]
    port = 0
    if args[0] == "--port":
        port = int(args[1])
        args = args[2:]
    portfile, mode, rest = args[0], args[1], args[2:]

    if mode == "http":
        class Quiet(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Quiet)
        ls = None
    else:
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", port))
        ls.listen(64)
    bound = (srv.server_address if ls is None else ls.getsockname())[1]
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % bound)
    os.rename(portfile + ".tmp", portfile)
    if ls is None:
        srv.serve_forever()
        return

    ctx = tls_context(rest[-2], rest[-1]) if mode in ("tls", "tlsforward") else None

    def serve(c):
        if mode == "silent":
            hold(c)
        elif mode == "garbage":
            c.sendall(b"\x00\xffgarbage from a proxy\r\n")
            hold(c)
        elif mode == "amqp10":
            c.recv(8)
            c.sendall(b"AMQP\x00\x01\x00\x00")
            c.close()
        elif mode == "tls":
            t = tls_accept(ctx, c)
            if t is not None:
                hold(t)
        elif mode == "forward":
            forward(c, int(rest[0]))
        elif mode == "tlsforward":
            t = tls_accept(ctx, c)
            if t is not None:
                print("relaying a TLS connection", file=sys.stderr, flush=True)
                forward(t, int(rest[0]))
        else:
            sys.exit("fake_server.py: unknown mode " + mode)

    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
