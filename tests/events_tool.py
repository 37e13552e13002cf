"""events_tool.py - what the tests of move --publish-moved need beyond
tests/amqp_tool.py (on python3-pika):

  events_tool.py exchange URL EXCHANGE [QUEUE KEY]
      declare EXCHANGE (durable direct); with QUEUE, also declare QUEUE
      (durable classic) and bind it to EXCHANGE by KEY.
  events_tool.py delete-exchange URL EXCHANGE...
      exchange.delete of each; one that does not exist is no error.
  events_tool.py check EVENTS MESSAGES DEST [dup=ID,...]
      EVENTS: the events as amqp_tool.py get wrote them (one JSON object a
      line); MESSAGES: the file messages (the same form). Each event must
      carry every documented field (docs/message-format.md, "The moved
      event, version 1") with the values of its file's message, "dest" the
      file's place below DEST (which must exist), message_id and type
      properties, persistent. Prints "N events, D duplicates, U ids".
      With dup=ID,..., exactly those ids have "duplicate": true.
  events_tool.py ids EVENTS
      the distinct message ids of the events, one a line, sorted.
  events_tool.py round EVENTS MANIFEST ROOT DEST
      after a round of a kill storm (every file of MANIFEST, a snapshot of
      ROOT by tests/audit.sh, moved and acknowledged): with duplicates by id
      removed, the events are exactly the files of MANIFEST, each event's
      id is the id of its fields (docs/message-format.md), its dest the
      file at DEST/<path>. Prints "E events for N files, D duplicates".
"""
import ast
import base64
import json
import os
import re
import sys

sys.dont_write_bytecode = True          # no tests/__pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import amqp_tool  # noqa: E402
from msgid import file_id  # noqa: E402
import pika.exceptions  # noqa: E402

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
MSG_FIELDS = ["id", "size", "mtime", "dev", "ino", "mode", "uid", "gid", "mime", "scanned_at",
              "host", "published_at", "hash"]


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def name(o, key):
    """The bytes of o's key, or of its key_b64 form; None when neither."""
    if key in o:
        return o[key].encode()
    if key + "_b64" in o:
        return base64.b64decode(o[key + "_b64"])
    return None


def check_event(info, msgs, dest, dups):
    """Problems of one event (info as amqp_tool.py get wrote it)."""
    bad = []
    ev = json.loads(base64.b64decode(info["body_b64"]))
    mid = ev.get("id")
    m = msgs.get(mid)
    if m is None:
        return ["event of an unknown id %r" % mid]
    if ev.get("v") != 1 or ev.get("event") != "moved":
        bad.append("v/event: %r/%r" % (ev.get("v"), ev.get("event")))
    for k in MSG_FIELDS:
        if ev.get(k) != m.get(k):
            bad.append("%s: %r, message has %r" % (k, ev.get(k), m.get(k)))
    for k in ("root", "path"):
        if name(ev, k) != name(m, k) or (k in ev) != (k in m):
            bad.append("%s differs from the message's" % k)
    d = name(ev, "dest")
    if d is None or not d.startswith(os.fsencode(dest) + b"/") or not os.path.isfile(d):
        bad.append("dest %r is not a file below %s" % (d, dest))
    elif d[len(os.fsencode(dest)) + 1:] != name(m, "path"):
        bad.append("dest %r is not DEST/<path>" % d)
    elif ("dest" in ev) == (b"\xe9" in d or b"\xff" in d):
        bad.append("dest: the plain/base64 choice is wrong for %r" % d)
    if not isinstance(ev.get("duplicate"), bool):
        bad.append("duplicate: %r" % ev.get("duplicate"))
    elif dups is not None and ev["duplicate"] != (mid in dups):
        bad.append("duplicate: %r" % ev["duplicate"])
    if not ev.get("mover_host") or not TIME.match(ev.get("moved_at", "")):
        bad.append("mover_host/moved_at: %r/%r" % (ev.get("mover_host"), ev.get("moved_at")))
    want = {"message_id": mid, "type": "scanmove.moved.v1", "delivery_mode": 2,
            "content_type": "application/json"}
    for k, v in want.items():
        if info.get(k) != v:
            bad.append("property %s: %r" % (k, info.get(k)))
    known = set(MSG_FIELDS) | {"v", "event", "root", "root_b64", "path", "path_b64", "dest",
                               "dest_b64", "duplicate", "mover_host", "moved_at"}
    if set(ev) - known:
        bad.append("undocumented fields %s" % sorted(set(ev) - known))
    return ["%s: %s" % (mid, b) for b in bad]


def check(events, messages, dest, opts):
    msgs = {}
    for info in load(messages):
        m = json.loads(base64.b64decode(info["body_b64"]))
        msgs[m["id"]] = m
    dups = None
    for o in opts:
        if o.startswith("dup="):
            dups = set(x for x in o[4:].split(",") if x)
    evs = load(events)
    bad = []
    for info in evs:
        bad += check_event(info, msgs, dest, dups)
    ids = set(json.loads(base64.b64decode(i["body_b64"]))["id"] for i in evs)
    if bad:
        sys.exit("\n".join(bad[:10]))
    ndup = sum(1 for i in evs if json.loads(base64.b64decode(i["body_b64"]))["duplicate"])
    print("%d events, %d duplicates, %d ids" % (len(evs), ndup, len(ids)))


def storm_round(events, manifest, root, dest):
    files = set()
    with open(manifest) as f:
        for line in f:
            key, kind = line.split("\t", 2)[:2]
            if kind.startswith("file "):
                files.add(ast.literal_eval(key))
    root = os.fsencode(os.path.realpath(root))
    dest = os.fsencode(os.path.realpath(dest))
    by_id, bad, n, dups = {}, [], 0, 0
    for info in load(events):
        n += 1
        ev = json.loads(base64.b64decode(info["body_b64"]))
        path = name(ev, "path")
        sec, _, frac = ev["mtime"].partition(".")
        ns = int(sec) * 10**9 + (-1 if sec.startswith("-") else 1) * int(frac)
        fid = file_id(int(ev["dev"]), int(ev["ino"]), int(ev["size"]), ns, name(ev, "root"), path)
        if fid != ev["id"] or info.get("message_id") != fid:
            bad.append("event %s: the id of its fields is %s" % (ev["id"], fid))
        if name(ev, "root") != root or path not in files:
            bad.append("event %s for a file not in the batch: %r" % (ev["id"], path))
        elif name(ev, "dest") != dest + b"/" + path or not os.path.isfile(name(ev, "dest")):
            bad.append("event %s: dest %r is not the file at DEST" % (ev["id"], name(ev, "dest")))
        if by_id.setdefault(ev["id"], path) != path:
            bad.append("id %s for two paths" % ev["id"])
        dups += ev["duplicate"] is True
    missing = files - set(by_id.values())
    if missing:
        bad.append("%d files moved without an event, e.g. %r" % (len(missing), sorted(missing)[:3]))
    if bad:
        sys.exit("\n".join(bad[:10]) + ("\n... %d problems" % len(bad) if len(bad) > 10 else ""))
    print("%d events for %d files, %d duplicates" % (n, len(by_id), dups))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "check":
        return check(args[0], args[1], args[2], args[3:])
    if cmd == "round":
        return storm_round(args[0], args[1], args[2], args[3])
    if cmd == "ids":
        for i in sorted(set(e["message_id"] for e in load(args[0]))):
            print(i)
        return None
    try:
        ch = amqp_tool.connect(args[0])
        if cmd == "exchange":
            ch.exchange_declare(args[1], "direct", durable=True)
            if len(args) > 2:
                ch.queue_declare(args[2], durable=True)
                ch.queue_bind(args[2], args[1], args[3])
        elif cmd == "delete-exchange":
            for x in args[1:]:
                ch.exchange_delete(x)
        else:
            sys.exit("events_tool.py: unknown command " + cmd)
        ch.connection.close()
    except (pika.exceptions.AMQPError, OSError) as e:
        sys.exit("events_tool.py: %s" % (str(e) or repr(e)))
    return None


if __name__ == "__main__":
    main()
