"""amqp_tool.py - the broker tests' AMQP client, on Debian's python3-pika.

  amqp_tool.py get URL QUEUE MAX OUT
      basic.get (no-ack) up to MAX messages into OUT, one JSON object a line:
      "body_b64", "body" (when the body is UTF-8), "exchange", "routing_key",
      "redelivered" and every property set ("headers" decoded). Prints how many.
  amqp_tool.py peek URL QUEUE MAX OUT
      like get, but the messages are consumed without acknowledgement and the
      connection closed, so the broker requeues them all (see peek). Prints
      how many.
  amqp_tool.py drain URL QUEUE MAX BODIES PROPS
      basic.get (no-ack) up to MAX messages: each body as one line of BODIES,
      the rest of get's object but the body as one JSON line of PROPS.
  amqp_tool.py publish URL EXCHANGE ROUTING_KEY FILE...
      each FILE's bytes as one persistent, mandatory message with a publisher
      confirm; message_id is the body's "id" (see body_id). Exits 1 if any
      message is returned (unroutable) or nacked. With AMQP_TOOL_TIMESTAMP set
      (Unix seconds), each message carries that timestamp property.
  amqp_tool.py count URL QUEUE
      passive queue.declare: prints "MESSAGES CONSUMERS" (ready messages).
  amqp_tool.py unbind URL QUEUE EXCHANGE ROUTING_KEY
      queue.unbind (rabbitmqctl has no command for it).
  amqp_tool.py delete URL QUEUE...
      queue.delete of each QUEUE; one that does not exist is no error.
  amqp_tool.py declare URL QUEUE
      queue.declare of a durable classic QUEUE.
"""
import base64
import collections
import datetime
import decimal
import json
import logging
import os
import sys

import pika
import pika.exceptions

sys.dont_write_bytecode = True          # no tests/__pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from msgid import body_id  # noqa: E402

# A connection failure is the exit message, not a logged traceback as well.
logging.getLogger("pika").addHandler(logging.NullHandler())
logging.getLogger("pika").propagate = False

Closed = pika.exceptions.AMQPError


def connect(url):
    """A channel of a new connection to url (no heartbeats, as the tools)."""
    params = pika.URLParameters(url)
    params.heartbeat = 0
    params.socket_timeout = 30
    params.blocked_connection_timeout = 30
    return pika.BlockingConnection(params).channel()


def plain(v):
    """v as JSON can hold it: bytes as text, or {"bytes_b64"} when not UTF-8."""
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return {"bytes_b64": base64.b64encode(v).decode()}
    if isinstance(v, dict):
        return {plain(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, datetime.datetime):
        return int(v.replace(tzinfo=datetime.timezone.utc).timestamp())
    if isinstance(v, decimal.Decimal):
        return float(v)
    return v


def describe(method, props):
    """The delivery's exchange, routing key, redelivered flag and set properties."""
    o = {"exchange": plain(method.exchange), "routing_key": plain(method.routing_key),
         "redelivered": bool(method.redelivered)}
    for k, v in vars(props).items():
        if v is not None:
            o[k] = plain(v)
    return o


def json_line(o, body):
    o = dict(o, body_b64=base64.b64encode(body).decode())
    if isinstance(plain(body), str):
        o["body"] = body.decode()
    return json.dumps(o, sort_keys=True) + "\n"


def get(ch, queue, most):
    """Yield (info, body) of up to most messages taken off queue (no-ack)."""
    for _ in range(most):
        method, props, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            return
        yield describe(method, props), body


def count(ch, queue):
    """(ready messages, consumers) of queue, by a passive declare."""
    ok = ch.queue_declare(queue, passive=True).method
    return ok.message_count, ok.consumer_count


def peek(ch, queue, most, idle=15):
    """Yield (info, body) of up to most of the messages ready in queue,
    consumed without acknowledgement: none comes twice until the connection
    closes, and then the broker requeues them all. For a quorum queue that
    counts as one delivery toward its x-delivery-limit, as for a mover killed.

    Not basic.get: on RabbitMQ 3.10 quorum queues each basic.get costs time
    proportional to the messages got and not acknowledged (150,000: 14 min).
    A consumer has no "empty" answer and at most 65535 messages unacknowledged:
    so the ready count is taken first, one consumer opened per 65535 of it,
    and deliveries read until that many came, or none for idle seconds."""
    target = min(count(ch, queue)[0], most)
    got = collections.deque()
    left = target
    while left > 0:
        ch.basic_qos(prefetch_count=min(left, 65535))
        ch.basic_consume(queue, lambda _c, m, p, b: got.append((m, p, b)))
        left -= min(left, 65535)
    for _ in range(target):
        if not got:
            ch.connection.process_data_events(time_limit=idle)
            if not got:
                return
        method, props, body = got.popleft()
        yield describe(method, props), body


def publish(ch, exchange, rkey, body):
    """Publish body persistent and mandatory on a confirming channel:
    "ack", "nack" or "returned"."""
    ts = os.environ.get("AMQP_TOOL_TIMESTAMP")
    props = pika.BasicProperties(content_type="application/json", delivery_mode=2,
                                 message_id=body_id(body), timestamp=int(ts) if ts else None)
    try:
        ch.basic_publish(exchange, rkey, body, props, mandatory=True)
    except pika.exceptions.UnroutableError:
        return "returned"
    except pika.exceptions.NackError:
        return "nack"
    return "ack"


def publish_files(url, exchange, rkey, files):
    """publish each file; exit 1 if one was not acked."""
    ch = connect(url)
    ch.confirm_delivery()
    bad = 0
    for path in files:
        with open(path, "rb") as f:
            r = publish(ch, exchange, rkey, f.read())
        if r != "ack":
            print("%s: %s" % (path, r), file=sys.stderr)
            bad += 1
    ch.connection.close()
    if bad:
        sys.exit(1)


def delete(url, queues):
    ch = connect(url)
    for q in queues:
        try:
            ch.queue_delete(q)
        except pika.exceptions.ChannelClosedByBroker as e:
            if e.reply_code != 404:
                raise
            ch = ch.connection.channel()
    ch.connection.close()


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    try:
        if cmd == "publish":
            return publish_files(args[0], args[1], args[2], args[3:])
        if cmd == "delete":
            return delete(args[0], args[1:])
        ch = connect(args[0])
        if cmd in ("get", "peek"):
            msgs = (get if cmd == "get" else peek)(ch, args[1], int(args[2]))
            n = 0
            with open(args[3], "w") as f:
                for o, body in msgs:
                    f.write(json_line(o, body))
                    n += 1
            print(n)
        elif cmd == "drain":
            n = 0
            with open(args[3], "wb") as fb, open(args[4], "w") as fp:
                for o, body in get(ch, args[1], int(args[2])):
                    fb.write(body + b"\n")
                    fp.write(json.dumps(o, sort_keys=True) + "\n")
                    n += 1
            print(n)
        elif cmd == "count":
            print("%d %d" % count(ch, args[1]))
        elif cmd == "declare":
            ch.queue_declare(args[1], durable=True)
        elif cmd == "unbind":
            ch.queue_unbind(args[1], args[2], args[3])
        else:
            sys.exit("amqp_tool.py: unknown command " + cmd)
        ch.connection.close()
    except (Closed, OSError) as e:
        sys.exit("amqp_tool.py: %s" % (str(e) or repr(e)))


if __name__ == "__main__":
    main()
