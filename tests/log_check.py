#!/usr/bin/env python3
"""log_check.py - check the JSON log lines of scan and move (--log-format json).

    log_check.py FILE CHECK...

Every line of FILE must be one JSON object (UTF-8) with the members every
log line has: time (RFC 3339 UTC with milliseconds), level, tool, pid (a
number), event and message. Each CHECK "event:key=value,key=value" then
needs a line of that event with those members ("key=": present with any
value; "key!": absent). Exit 0, or 1 with the first problem on stderr.
"""
import json
import re
import sys

LEVELS = ("error", "warning", "notice", "info", "debug")
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def fits(o, event, members):
    if o["event"] != event:
        return False
    for m in filter(None, members.split(",")):
        if m.endswith("!"):
            if m[:-1] in o:
                return False
            continue
        k, _, v = m.partition("=")
        if k not in o or (v and str(o[k]) != v):
            return False
    return True


def main():
    data = open(sys.argv[1], "rb").read()
    if data and not data.endswith(b"\n"):
        sys.exit("no newline at the end of %s" % sys.argv[1])
    objs = []
    for ln in data.split(b"\n")[:-1]:
        o = json.loads(ln.decode("utf-8"))
        for k in ("time", "level", "tool", "pid", "event", "message"):
            if k not in o:
                sys.exit("no %s in %r" % (k, o))
        if not TIME.fullmatch(o["time"]) or o["level"] not in LEVELS:
            sys.exit("bad time or level in %r" % o)
        if not isinstance(o["pid"], int) or o["pid"] <= 0:
            sys.exit("bad pid in %r" % o)
        objs.append(o)
    for want in sys.argv[2:]:
        event, _, members = want.partition(":")
        if not any(fits(o, event, members) for o in objs):
            sys.exit("no line %s in %r" % (want, objs))


if __name__ == "__main__":
    main()
