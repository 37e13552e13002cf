"""Checks of move --dead and friends (tests/broker/test_move_dead*.sh):
python3 dead_util.py COMMAND ARGS...

  valid OUT          every line of OUT is a --dead JSON line: the documented
                     members, each of its type, times ISO 8601 UTC
  fields OUT KEY...  the values of KEYs of each line of OUT, tab-separated,
                     one line each (null as "-", path_b64 decoded as a repr)
  same A B           two amqp_tool.py peek outputs hold the same messages in
                     the same order: bodies, properties and headers alike but
                     for redelivered and the x-delivery-count header
  header PEEK N KEY  header KEY of message N (from 0) of a peek output
"""
import base64
import json
import re
import sys

sys.dont_write_bytecode = True

MEMBERS = ["id", "root", "path", "reason", "error", "first_dead", "last_dead", "count",
           "decode_error"]
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def die(msg):
    print(msg)
    sys.exit(1)


def lines(path):
    with open(path) as f:
        text = f.read()
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError as e:
            die("not a JSON line (%s): %r" % (e, line[:300]))
    return out


def name(o, key):
    """root or path of a line: the text, or the repr of the base64 bytes."""
    if key + "_b64" in o:
        return repr(base64.b64decode(o[key + "_b64"]))
    return o.get(key)


def valid(path):
    for o in lines(path):
        keys = [k[:-4] if k in ("root_b64", "path_b64") else k for k in o if k != "action"]
        if keys != MEMBERS:
            die("members %s, expected %s: %s" % (list(o), MEMBERS, json.dumps(o)[:400]))
        if o["id"] is not None and not re.match(r"^[0-9a-f]{32}$", o["id"]):
            die("bad id: %s" % json.dumps(o)[:400])
        for k in ("first_dead", "last_dead"):
            if not (o[k] is None or TIME.match(o[k])):
                die("%s is not ISO 8601 UTC: %s" % (k, json.dumps(o)[:400]))
        if o["first_dead"] and o["last_dead"] and o["first_dead"] > o["last_dead"]:
            die("first_dead after last_dead: %s" % json.dumps(o)[:400])
        if not isinstance(o["count"], int) or o["count"] < 1:
            die("count not a positive integer: %s" % json.dumps(o)[:400])
        undecoded = o["decode_error"] is not None
        if undecoded != (name(o, "root") is None) or undecoded != (name(o, "path") is None):
            die("root and path must be null exactly when decode_error is not: %s"
                % json.dumps(o)[:400])
        if not isinstance(o["reason"], str) or not isinstance(o["error"], str) or not o["error"]:
            die("no reason or error: %s" % json.dumps(o)[:400])


def fields(path, keys):
    for o in lines(path):
        vals = []
        for k in keys:
            v = name(o, k) if k in ("root", "path") else o.get(k)
            vals.append("-" if v is None else str(v))
        print("\t".join(vals))


def peeked(path):
    with open(path) as f:
        msgs = [json.loads(line) for line in f]
    for m in msgs:
        m.pop("redelivered", None)
        (m.get("headers") or {}).pop("x-delivery-count", None)
    return msgs


def same(a, b):
    ma, mb = peeked(a), peeked(b)
    if len(ma) != len(mb):
        die("%d messages before, %d after" % (len(ma), len(mb)))
    for i, (x, y) in enumerate(zip(ma, mb)):
        if x != y:
            die("message %d differs:\n%s\n%s" % (i, json.dumps(x, sort_keys=True)[:600],
                                                 json.dumps(y, sort_keys=True)[:600]))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "valid":
        valid(args[0])
    elif cmd == "fields":
        fields(args[0], args[1:])
    elif cmd == "same":
        same(args[0], args[1])
    elif cmd == "header":
        v = peeked(args[0])[int(args[1])].get("headers", {}).get(args[2])
        print("-" if v is None else v)
    else:
        die("dead_util.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
