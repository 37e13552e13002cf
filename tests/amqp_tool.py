"""amqp_tool.py - a tiny AMQP 0-9-1 client for the broker tests (Python 3
standard library only). amqp-tools cannot publish arbitrary bytes with a
publisher confirm, and amqp-get shows neither headers nor properties.

  amqp_tool.py get URL QUEUE MAX OUT
      basic.get (no-ack) up to MAX messages into OUT, one JSON object a line:
      {"body_b64": ..., "body": (the body as text, when it is UTF-8),
       "exchange", "routing_key", "redelivered", and every property set:
       "content_type", "delivery_mode", "message_id", "headers" (a decoded
       table: strings, numbers, booleans, nested tables and arrays), ...}
      Prints how many.
  amqp_tool.py peek URL QUEUE MAX OUT
      like get, but leaves the queue as it was: up to MAX of the messages
      ready are received without acknowledging them (by a consumer: see
      Conn.peek for why not basic.get), written to OUT the same way, and
      the connection is closed, so that the broker requeues them all. For a
      quorum queue each peek counts as one delivery of each message read:
      the return counts toward its x-delivery-limit, and the broker
      dead-letters a message (x-death reason delivery_limit) once its
      returns exceed the limit (RabbitMQ 3.10: limit 2, the third peek).
      Prints how many. Used by tests/audit.py.
  amqp_tool.py drain URL QUEUE MAX BODIES PROPS
      basic.get (no-ack) up to MAX messages: each body as one line of
      BODIES, its "exchange", "routing_key", "redelivered" and properties
      as one JSON line of PROPS. Prints how many.
  amqp_tool.py publish URL EXCHANGE ROUTING_KEY FILE...
      publish each FILE's bytes as one persistent, mandatory message, with a
      publisher confirm; message_id is the body's "id" when the body is a
      JSON object with a string "id" (as scan sets it), else absent. Exits 1
      if any message is returned (unroutable) or nacked.
  amqp_tool.py count URL QUEUE
      passive queue.declare: prints "MESSAGES CONSUMERS" (ready messages).
  amqp_tool.py unbind URL QUEUE EXCHANGE ROUTING_KEY
      queue.unbind: remove one binding (rabbitmqctl has no command for it).

Used by tests/broker/test_scan.sh, tests/broker/test_move.sh and tests/faults/.
"""
import base64
import json
import socket
import struct
import sys
from urllib.parse import unquote, urlsplit


class Closed(Exception):
    pass


class Conn:
    def __init__(self, url):
        u = urlsplit(url)
        self.s = socket.create_connection((u.hostname, u.port or 5672), timeout=30)
        self.buf = b""
        self.pos = 0
        self.broken = False
        self.s.sendall(b"AMQP\x00\x00\x09\x01")
        self.expect(0, 10, 10)                                      # connection.start
        auth = (b"\0" + unquote(u.username or "guest").encode() + b"\0"
                + unquote(u.password or "guest").encode())
        self.method(0, 10, 11, b"\0\0\0\0" + ss(b"PLAIN") + ls(auth) + ss(b"en_US"))
        args = self.expect(0, 10, 30)                               # connection.tune
        chmax, fmax, _ = struct.unpack(">HIH", args[:8])
        self.frame_max = fmax or 131072
        self.method(0, 10, 31, struct.pack(">HIH", chmax, self.frame_max, 0))
        vhost = unquote(u.path[1:]) if len(u.path) > 1 else "/"
        self.method(0, 10, 40, ss(vhost.encode()) + b"\0\0")
        self.expect(0, 10, 41)                                      # connection.open-ok
        self.method(1, 20, 10, b"\0")
        self.expect(1, 20, 11)                                      # channel.open-ok

    def frame(self, ftype, ch, payload):
        self.s.sendall(struct.pack(">BHI", ftype, ch, len(payload)) + payload + b"\xce")

    def method(self, ch, cls, mth, args):
        self.frame(1, ch, struct.pack(">HH", cls, mth) + args)

    def read(self, n):
        # self.buf[self.pos:] is unread; compacted only when refilled, so
        # that many small frames in one big read are not copied each time.
        while len(self.buf) - self.pos < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise Closed("the broker closed the connection")
            self.buf = self.buf[self.pos:] + chunk
            self.pos = 0
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def next_frame(self):
        while True:
            ftype, ch, size = struct.unpack(">BHI", self.read(7))
            payload = self.read(size)
            if self.read(1) != b"\xce":
                raise Closed("bad frame end")
            if ftype == 1 and struct.unpack(">HH", payload[:4]) in ((10, 50), (20, 40)):
                code, = struct.unpack(">H", payload[4:6])
                raise Closed("closed by the broker: %d %s"
                             % (code, payload[7:7 + payload[6]].decode(errors="replace")))
            if ftype != 8:                                          # skip heartbeats
                return ftype, ch, payload

    def expect(self, ch, cls, mth):
        ftype, fch, p = self.next_frame()
        got = struct.unpack(">HH", p[:4]) if ftype == 1 else None
        if (ftype, fch) != (1, ch) or got != (cls, mth):
            raise Closed("unexpected frame %r %r, expected %r" % (ftype, got, (cls, mth)))
        return p[4:]

    def get(self, queue):
        """(info, properties, body) of the next message, or None when empty;
        no-ack: the message is gone from the queue."""
        self.method(1, 60, 70, b"\0\0" + ss(queue.encode()) + b"\x01")
        return self.read_get()

    def peek(self, queue, most, idle=15):
        """Yield (info, properties, body) of up to most of the messages ready
        in queue, consumed without acknowledgement. They stay unacknowledged,
        so none comes twice, until the connection closes: then the broker
        requeues them all. For a quorum queue that return counts as one
        delivery toward its x-delivery-limit, as for a mover that is killed.

        Not basic.get: on RabbitMQ 3.10 quorum queues each basic.get costs
        time proportional to the messages already got and not acknowledged
        (measured: 10,000 messages 4 s, 20,000 10 s, 150,000 14 min). A
        consumer is fast (20,000 in 0.3 s), but has no "empty" answer and at
        most 65535 unacknowledged messages: so the ready count is taken
        first, one consumer is opened per 65535 messages of it, and the
        deliveries are read until that many came, or none for idle seconds
        (another consumer took some meanwhile)."""
        ready, _ = self.count(queue)
        target = min(ready, most)
        left, i = target, 0
        while left > 0:
            k = min(left, 65535)
            self.method(1, 60, 10, struct.pack(">IHB", 0, k, 0))          # basic.qos
            self.method(1, 60, 20, b"\0\0" + ss(queue.encode()) + ss(b"peek-%d" % i)
                        + b"\0" + b"\0\0\0\0")                         # basic.consume
            left -= k
            i += 1
        n = 0
        old = self.s.gettimeout()
        self.s.settimeout(idle)
        try:
            while n < target:
                try:
                    ftype, _, p = self.next_frame()
                except socket.timeout:
                    self.broken = True           # maybe mid-frame: no clean close
                    return
                if ftype != 1:
                    raise Closed("unexpected frame type %d while peeking" % ftype)
                cls_mth = struct.unpack(">HH", p[:4])
                if cls_mth in ((60, 11), (60, 21)):                     # qos-ok, consume-ok
                    continue
                if cls_mth != (60, 60):
                    raise Closed("unexpected method %r while peeking" % (cls_mth,))
                args = p[4:]
                _, off = shortstr(args, 0)                              # consumer tag
                off += 8                                                # delivery tag
                redelivered = bool(args[off] & 1)
                exchange, off = shortstr(args, off + 1)
                rkey, off = shortstr(args, off)
                props, body = self.read_content()
                n += 1
                yield {"exchange": exchange, "routing_key": rkey,
                       "redelivered": redelivered}, props, body
        finally:
            if not self.broken:
                self.s.settimeout(old)

    def read_get(self):
        """The reply to one basic.get: (info, properties, body), or None."""
        _, _, p = self.next_frame()
        cls_mth = struct.unpack(">HH", p[:4])
        if cls_mth == (60, 72):
            return None
        if cls_mth != (60, 71):
            raise Closed("unexpected reply to basic.get %r" % (cls_mth,))
        args = p[4:]
        off = 8
        redelivered = bool(args[off] & 1)
        off += 1
        exchange, off = shortstr(args, off)
        rkey, off = shortstr(args, off)
        props, body = self.read_content()
        info = {"exchange": exchange, "routing_key": rkey, "redelivered": redelivered}
        return info, props, body

    def read_content(self):
        """The content header and body frames of a message: (properties, body)."""
        _, _, h = self.next_frame()
        _, _, size, flags = struct.unpack(">HHQH", h[:14])
        props, off = {}, 14
        for bit, name, kind in PROPS:
            if not flags & (1 << bit):
                continue
            if kind == "s":
                props[name], off = shortstr(h, off)
            elif kind == "t":
                props[name], off = table(h, off)
            elif kind == "B":
                props[name] = h[off]
                off += 1
            else:
                props[name], = struct.unpack(">Q", h[off:off + 8])
                off += 8
        parts, got = [], 0
        while got < size:
            _, _, part = self.next_frame()
            parts.append(part)
            got += len(part)
        return props, b"".join(parts)

    def confirm_select(self):
        self.method(1, 85, 10, b"\0")
        self.expect(1, 85, 11)

    def publish(self, exchange, rkey, body, message_id=None):
        """Publish with mandatory=1; returns "ack", "nack" or "returned"."""
        self.method(1, 60, 40, b"\0\0" + ss(exchange.encode()) + ss(rkey.encode()) + b"\x01")
        flags, props = (1 << 15) | (1 << 12), ss(b"application/json") + b"\x02"
        if message_id is not None:
            flags |= 1 << 7
            props += ss(message_id.encode())
        self.frame(2, 1, struct.pack(">HHQH", 60, 0, len(body), flags) + props)
        step = self.frame_max - 8
        for i in range(0, len(body), step):
            self.frame(3, 1, body[i:i + step])
        returned = False
        while True:
            ftype, _, p = self.next_frame()
            if ftype != 1:
                continue                           # header/body of a returned message
            cls_mth = struct.unpack(">HH", p[:4])
            if cls_mth == (60, 50):
                returned = True
            elif cls_mth == (60, 80):
                return "returned" if returned else "ack"
            elif cls_mth == (60, 120):
                return "nack"
            else:
                raise Closed("unexpected frame %r while waiting for a confirm" % (cls_mth,))

    def count(self, queue):
        self.method(1, 50, 10, b"\0\0" + ss(queue.encode()) + b"\x01" + b"\0\0\0\0")
        args = self.expect(1, 50, 11)
        _, off = shortstr(args, 0)
        return struct.unpack(">II", args[off:off + 8])

    def unbind(self, queue, exchange, rkey):
        self.method(1, 50, 50, b"\0\0" + ss(queue.encode()) + ss(exchange.encode())
                    + ss(rkey.encode()) + b"\0\0\0\0")
        self.expect(1, 50, 51)

    def close(self):
        if self.broken:
            self.s.close()
            return
        self.method(0, 10, 50, struct.pack(">H", 200) + ss(b"bye") + b"\0\0\0\0")
        while True:                  # deliveries of a peek may still arrive
            ftype, ch, p = self.next_frame()
            if (ftype, ch) == (1, 0) and struct.unpack(">HH", p[:4]) == (10, 51):
                break
        self.s.close()


PROPS = ((15, "content_type", "s"), (14, "content_encoding", "s"), (13, "headers", "t"),
         (12, "delivery_mode", "B"), (11, "priority", "B"), (10, "correlation_id", "s"),
         (9, "reply_to", "s"), (8, "expiration", "s"), (7, "message_id", "s"),
         (6, "timestamp", "Q"), (5, "type", "s"), (4, "user_id", "s"), (3, "app_id", "s"),
         (2, "cluster_id", "s"))


def ss(b):
    return bytes([len(b)]) + b


def ls(b):
    return struct.pack(">I", len(b)) + b


def text(b):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return {"bytes_b64": base64.b64encode(b).decode()}


def shortstr(b, off):
    n = b[off]
    return text(b[off + 1:off + 1 + n]), off + 1 + n


def value(b, off):
    """One field value of a table or an array, in RabbitMQ's type codes."""
    t = chr(b[off])
    off += 1
    fixed = {"b": ">b", "B": ">B", "s": ">h", "u": ">H", "I": ">i", "i": ">I", "l": ">q",
             "L": ">Q", "f": ">f", "d": ">d", "T": ">Q"}
    if t in fixed:
        v, = struct.unpack_from(fixed[t], b, off)
        return v, off + struct.calcsize(fixed[t])
    if t == "t":
        return bool(b[off]), off + 1
    if t == "D":
        scale = b[off]
        v, = struct.unpack_from(">i", b, off + 1)
        return v / 10 ** scale, off + 5
    if t in "Sx":
        n, = struct.unpack_from(">I", b, off)
        return text(b[off + 4:off + 4 + n]), off + 4 + n
    if t == "F":
        return table(b, off)
    if t == "A":
        n, = struct.unpack_from(">I", b, off)
        end, off, out = off + 4 + n, off + 4, []
        while off < end:
            v, off = value(b, off)
            out.append(v)
        return out, end
    if t == "V":
        return None, off
    raise Closed("unknown field type %r" % t)


def table(b, off):
    n, = struct.unpack_from(">I", b, off)
    end, off, out = off + 4 + n, off + 4, {}
    while off < end:
        k, off = shortstr(b, off)
        out[k], off = value(b, off)
    return out, end


def json_line(m):
    """One message of get/peek as a JSON line."""
    info, props, body = m
    o = dict(info, **props)
    o["body_b64"] = base64.b64encode(body).decode()
    t = text(body)
    if isinstance(t, str):
        o["body"] = t
    return json.dumps(o, sort_keys=True) + "\n"


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    try:
        c = Conn(args[0])
        if cmd == "get":
            queue, most, out = args[1], int(args[2]), args[3]
            n = 0
            with open(out, "w") as f:
                while n < most:
                    m = c.get(queue)
                    if m is None:
                        break
                    f.write(json_line(m))
                    n += 1
            print(n)
        elif cmd == "peek":
            queue, most, out = args[1], int(args[2]), args[3]
            n = 0
            with open(out, "w") as f:
                for m in c.peek(queue, most):
                    f.write(json_line(m))
                    n += 1
            print(n)
        elif cmd == "drain":
            queue, most, bodies, out = args[1], int(args[2]), args[3], args[4]
            n = 0
            with open(bodies, "wb") as fb, open(out, "w") as fp:
                while n < most:
                    m = c.get(queue)
                    if m is None:
                        break
                    info, props, body = m
                    fb.write(body + b"\n")
                    fp.write(json.dumps(dict(info, **props), sort_keys=True) + "\n")
                    n += 1
            print(n)
        elif cmd == "publish":
            exchange, rkey, files = args[1], args[2], args[3:]
            c.confirm_select()
            bad = 0
            for path in files:
                with open(path, "rb") as f:
                    body = f.read()
                mid = None
                try:
                    o = json.loads(body)
                    if isinstance(o, dict) and isinstance(o.get("id"), str):
                        mid = o["id"]
                except ValueError:
                    pass
                r = c.publish(exchange, rkey, body, mid)
                if r != "ack":
                    print("%s: %s" % (path, r), file=sys.stderr)
                    bad += 1
            if bad:
                sys.exit(1)
        elif cmd == "count":
            print("%d %d" % c.count(args[1]))
        elif cmd == "unbind":
            c.unbind(args[1], args[2], args[3])
        else:
            sys.exit("amqp_tool.py: unknown command " + cmd)
        c.close()
    except (Closed, OSError) as e:
        sys.exit("amqp_tool.py: %s" % e)


if __name__ == "__main__":
    main()
