"""Checks of the --metrics files (tests/broker/test_metrics.sh):
python3 metrics_check.py COMMAND ARGS...

  value FILE NAME [LABEL=VALUE...]  print the sum of the matching samples
  labels FILE                       labels are bounded: known names, values
                                    without '/', no ids
  scan FILE JSON                    the counters match scan --json's summary
  move FILE JSON [OBSERVED]         the counters match move --json's; the
                                    latency histogram is whole and counts
                                    OBSERVED (default moved + duplicates)
"""
import json, re, sys

sys.dont_write_bytecode = True

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
KNOWN = {"queue", "worker", "tool", "outcome", "reason", "result", "le"}


def die(msg):
    print(msg)
    sys.exit(1)


def load(path):
    """[(name, {label: value}, float)] of every sample of the file."""
    out = []
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        die("cannot read the metrics file: %s" % e)
    with f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            m = LINE.match(line)
            if not m:
                die("%s:%d: not a sample line: %r" % (path, n, line))
            labels = {}
            rest = m.group(3) or ""
            while rest:
                lm = LABEL.match(rest)
                if not lm:
                    die("%s:%d: bad labels: %r" % (path, n, line))
                labels[lm.group(1)] = lm.group(2)
                rest = rest[lm.end():]
            out.append((m.group(1), labels, float(m.group(4))))
    return out


def value(samples, name, **want):
    hits = [v for (n, l, v) in samples
            if n == name and all(l.get(k) == w for k, w in want.items())]
    if not hits:
        die("no sample %s%s" % (name, want))
    return sum(hits)


def expect(what, got, want):
    if got != want:
        die("%s: the metrics say %s, the summary %s" % (what, got, want))


def check_labels(samples):
    for name, labels, _ in samples:
        for k, v in labels.items():
            if k not in KNOWN:
                die("%s has an unexpected label %s" % (name, k))
            if "/" in v or re.fullmatch(r"[0-9a-f]{32}", v):
                die("%s{%s=%r} looks like a path or an id" % (name, k, v))


def check_scan(samples, j):
    files = "scanmove_scan_files_total"
    expect("published", value(samples, files, outcome="published", reason="none"),
           j["published"])
    expect("rejected", value(samples, files, outcome="rejected"), j["rejected"])
    expect("failed", value(samples, files, outcome="failed"), j["failed"])
    expect("already queued", value(samples, files, outcome="queued"), j["already_queued"])
    expect("files", value(samples, files), j["files"])
    for key, outcome in (("rejected_by_reason", "rejected"), ("failed_by_reason", "failed")):
        for reason, n in j[key].items():
            expect(reason, value(samples, files, outcome=outcome, reason=reason), n)
    expect("bytes", value(samples, "scanmove_scan_bytes_total"), j["bytes"])
    if "queue_messages" in j:
        expect("queue messages", value(samples, "scanmove_queue_messages"), j["queue_messages"])
        expect("queue consumers", value(samples, "scanmove_queue_consumers"),
               j["queue_consumers"])


def check_move(samples, j, observed):
    files = "scanmove_move_files_total"
    for result, key in (("moved", "moved"), ("duplicate", "duplicates"),
                        ("skipped", "skipped"), ("dead", "dead_lettered"),
                        ("requeued", "requeued")):
        expect(result, value(samples, files, result=result), j[key])
    dead = "scanmove_move_dead_letters_total"
    expect("dead letters", value(samples, dead), j["dead_lettered"])
    for reason, n in j["dead_by_reason"].items():
        expect("dead letters for " + reason, value(samples, dead, reason=reason), n)
    lat = "scanmove_move_queue_latency_seconds"
    buckets = [(l["le"], v) for (n, l, v) in samples if n == lat + "_bucket"]
    if not buckets or buckets[-1][0] != "+Inf":
        die("the latency histogram has no +Inf bucket")
    counts = [v for _, v in buckets]
    if counts != sorted(counts):
        die("the latency buckets are not cumulative: %s" % buckets)
    count = value(samples, lat + "_count")
    expect("latency count", count, buckets[-1][1])
    if observed is None:
        observed = j["moved"] + j["duplicates"]
    expect("latency observations", count, observed)
    if count > 0 and not 0 <= value(samples, lat + "_sum") / count < 600:
        die("the mean latency is not a few seconds")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    samples = load(args[0])
    if cmd == "value":
        want = dict(a.split("=", 1) for a in args[2:])
        v = value(samples, args[1], **want)
        print(int(v) if v == int(v) else v)
    elif cmd == "labels":
        check_labels(samples)
    elif cmd in ("scan", "move"):
        with open(args[1]) as f:
            j = json.loads(f.read())
        if cmd == "scan":
            check_scan(samples, j)
        else:
            check_move(samples, j, int(args[2]) if len(args) > 2 else None)
    else:
        die("unknown command " + cmd)


if __name__ == "__main__":
    main()
