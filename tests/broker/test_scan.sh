#!/usr/bin/env bash
# Against the private broker: scan publishes exactly one confirmed,
# persistent message per accepted file, with the documented body and AMQP
# properties; awkward names arrive intact; a rerun publishes again (same
# ids); an empty directory publishes nothing; a nack, an unroutable publish
# and a broker stopped mid-scan are reported per file with the documented
# exit statuses, and a rerun after the broker is back succeeds.
#
# Messages are taken off the queues with basic.get by a small AMQP 0-9-1
# client in Python (standard library only): amqp-consume forks a command per
# message and shows no properties.
. "$(dirname "$0")/../lib.sh"
unset SCANMOVE_JOBS
PY3=python3
[ -x /usr/bin/python3 ] && PY3=/usr/bin/python3

url=$("$BROKER_SH" url)
tag=$$
declared=()
policy=

# The broker must be running when this test ends, whatever happened: the
# other broker tests reuse it. Then remove what this test declared.
cleanup() {
    if ! "$BROKER_SH" status >/dev/null 2>&1; then
        "$BROKER_SH" start >/dev/null || echo "test_scan: could not restart the broker" >&2
    fi
    [ -z "$policy" ] || "$BROKER_SH" ctl clear_policy "$policy" >/dev/null 2>&1 || true
    local q
    for q in "${declared[@]}"; do
        amqp-delete-queue --url="$url" -q "$q" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

PY=$WORK/check.py
cat >"$PY" <<'EOF'
"""Checks of scan's JSON lines; prints what is wrong and exits 1."""
import base64, datetime, json, os, re, socket, stat, struct, sys
from collections import Counter

REJECTED = {"hidden", "excluded", "too-small", "too-large", "too-young", "too-old",
            "mime-not-allowed", "unreadable", "symlink", "not-regular", "too-deep",
            "other-filesystem"}
FAILED = {"io-error", "vanished", "unreadable-dir", "path-too-long", "unconfirmed",
          "nacked", "unroutable"}
DEC = re.compile(r"0|[1-9][0-9]*")


def die(msg):
    print(msg)
    sys.exit(1)


def utf8(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def name(o, key):
    """The bytes of o's root or path, from the plain or the _b64 form."""
    plain, b64 = key in o, key + "_b64" in o
    if plain == b64:
        die("%s: exactly one of %s/%s_b64 expected: %s" % (key, key, key, json.dumps(o)))
    if plain:
        if not isinstance(o[key], str):
            die("%s is not a string: %s" % (key, json.dumps(o)))
        try:
            return o[key].encode("utf-8")
        except UnicodeEncodeError:
            die("%s is not valid UTF-8: %s" % (key, json.dumps(o)))
    try:
        b = base64.b64decode(o[key + "_b64"], validate=True)
    except Exception as e:
        die("%s_b64 is not base64 (%s): %s" % (key, e, json.dumps(o)))
    if utf8(b):
        die("%s_b64 used for a valid UTF-8 name: %s" % (key, json.dumps(o)))
    return b


def check_names(o):
    root, path = name(o, "root"), name(o, "path")
    if not root.startswith(b"/"):
        die("root is not absolute: %s" % json.dumps(o))
    if path == b"" or path.startswith(b"/") or b".." in path.split(b"/"):
        die("bad relative path: %s" % json.dumps(o))
    return root, path


def load(files):
    """Sort the lines of files into messages, reject lines and summaries."""
    msgs, rejs, sums = [], [], []
    for f in files:
        with open(f, "rb") as fh:
            pieces = fh.read().split(b"\n")
        if pieces[-1] != b"":
            die("%s does not end with a newline" % f)
        for n, raw in enumerate(pieces[:-1], 1):
            try:
                o = json.loads(raw)
            except Exception as e:
                die("%s line %d is not JSON (%s): %r" % (f, n, e, raw[:300]))
            if not isinstance(o, dict):
                die("%s line %d is not an object: %r" % (f, n, raw[:300]))
            if "v" in o:
                check_names(o)
                msgs.append(o)
            elif "outcome" in o:
                check_names(o)
                extra = set(o) - {"root", "root_b64", "path", "path_b64", "outcome", "reason",
                                  "detail"}
                if extra:
                    die("unexpected keys %s in %s" % (sorted(extra), json.dumps(o)))
                ok = (REJECTED if o["outcome"] == "rejected" else
                      FAILED if o["outcome"] == "failed" else set())
                if o.get("reason") not in ok:
                    die("unknown outcome/reason: %s" % json.dumps(o))
                if "detail" in o and not isinstance(o["detail"], str):
                    die("detail is not a string: %s" % json.dumps(o))
                rejs.append(o)
            elif "files" in o:
                sums.append(o)
            else:
                die("%s line %d is neither a message, a reject line nor a summary: %r"
                    % (f, n, raw[:300]))
    return msgs, rejs, sums


def fnv128(data):
    h = 0x6C62272E07BB014262B821756295C58D
    for b in data:
        h = ((h ^ b) * 0x0000000001000000000000000000013B) & ((1 << 128) - 1)
    return "%032x" % h


def fmt_mtime(ns):
    sign, a = ("-", -ns) if ns < 0 else ("", ns)
    return "%s%d.%09d" % (sign, a // 10**9, a % 10**9)


def lstat_beneath(root, path):
    """lstat root/path without building a path string over PATH_MAX."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        parts = path.split(b"/")
        for comp in parts[:-1]:
            nfd = os.open(comp, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nfd
        return os.lstat(parts[-1], dir_fd=fd)
    finally:
        os.close(fd)


def check_msg(m, mime_mode):
    def bad(why):
        die("%s: %s" % (why, json.dumps(m)))
    for k in ("v", "id", "size", "mtime", "dev", "ino", "mode", "uid", "gid", "scanned_at",
              "host"):
        if k not in m:
            bad("missing %s" % k)
    if m["v"] != 1 or isinstance(m["v"], bool):
        bad("v is not 1")
    if not isinstance(m["id"], str) or not re.fullmatch(r"[0-9a-f]{32}", m["id"]):
        bad("id is not 32 lowercase hex digits")
    for k in ("size", "dev", "ino"):
        if not isinstance(m[k], str) or not DEC.fullmatch(m[k]):
            bad("%s is not a decimal string" % k)
    if not isinstance(m["mtime"], str) or not re.fullmatch(r"-?(0|[1-9][0-9]*)\.[0-9]{9}",
                                                           m["mtime"]):
        bad("mtime is not SECONDS.NNNNNNNNN")
    for k in ("mode", "uid", "gid"):
        if not isinstance(m[k], int) or isinstance(m[k], bool):
            bad("%s is not an integer" % k)
    sa = m["scanned_at"]
    if not isinstance(sa, str) or not re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", sa):
        bad("scanned_at is not RFC 3339 UTC with milliseconds")
    t = datetime.datetime.strptime(sa, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)
    if abs(t.timestamp() - datetime.datetime.now(datetime.timezone.utc).timestamp()) > 3600:
        bad("scanned_at is not now")
    if m["host"] != socket.gethostname():
        bad("host is not %s" % socket.gethostname())
    if mime_mode == "present" and not (isinstance(m.get("mime"), str) and m["mime"]):
        bad("no mime")
    if mime_mode == "absent" and "mime" in m:
        bad("mime present")
    if "mime" in m and not isinstance(m["mime"], str):
        bad("mime is not a string")
    root, path = check_names(m)
    try:
        st = lstat_beneath(root, path)
    except OSError as e:
        bad("cannot lstat the file (%s)" % e)
    if not stat.S_ISREG(st.st_mode):
        bad("not a regular file")
    want = {"size": str(st.st_size), "dev": str(st.st_dev), "ino": str(st.st_ino),
            "mode": st.st_mode, "uid": st.st_uid, "gid": st.st_gid,
            "mtime": fmt_mtime(st.st_mtime_ns)}
    for k, v in want.items():
        if m[k] != v:
            bad("%s is %r, the file says %r" % (k, m[k], v))
    sec, nsec = divmod(st.st_mtime_ns, 10**9)
    data = struct.pack("<QQQqI", st.st_dev, st.st_ino, st.st_size, sec, nsec)
    if m["id"] != fnv128(data + root + b"\0" + path):
        bad("id is not the FNV-1a hash of docs/message-format.md")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "ids":
        msgs, _, _ = load(args)
        for i in sorted(m["id"] for m in msgs):
            print(i)
    elif cmd == "paths":
        msgs, _, _ = load(args)
        for p in sorted(check_names(m)[1] for m in msgs):
            print(os.fsdecode(p))
    elif cmd == "checkmsg":
        # checkmsg any|present|absent FILE... : every message matches its file
        msgs, _, _ = load(args[1:])
        for m in msgs:
            check_msg(m, args[0])
    elif cmd == "times":
        # times N FILE1 FILE2 : each message of FILE1 (scanned_at aside) is in
        # FILE2 exactly N times, and FILE2 has nothing else
        def key(m):
            return json.dumps({k: v for k, v in m.items() if k != "scanned_at"}, sort_keys=True)
        a = Counter(key(m) for m in load(args[1:2])[0])
        b = Counter(key(m) for m in load(args[2:3])[0])
        want = Counter({k: v * int(args[0]) for k, v in a.items()})
        if b != want:
            die("missing: %s; extra: %s" % (list((want - b).elements())[:3],
                                            list((b - want).elements())[:3]))
    elif cmd == "props":
        # props BODIES PROPS EXCHANGE ROUTING_KEY : the AMQP properties of
        # each message are the documented ones
        msgs, _, _ = load(args[:1])
        with open(args[1]) as f:
            props = [json.loads(line) for line in f]
        if len(props) != len(msgs):
            die("%d bodies, %d property sets" % (len(msgs), len(props)))
        for m, p in zip(msgs, props):
            t = datetime.datetime.strptime(m["scanned_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
            want = {"content_type": "application/json", "delivery_mode": 2,
                    "message_id": m["id"], "type": "scanmove.file.v1", "app_id": "scanmove",
                    "timestamp": int(t.replace(tzinfo=datetime.timezone.utc).timestamp()),
                    "exchange": args[2], "routing_key": args[3]}
            for k, v in want.items():
                if p.get(k) != v:
                    die("property %s is %r, expected %r: %s" % (k, p.get(k), v, json.dumps(p)))
    elif cmd == "summary":
        # summary true|false FILE... : the one summary agrees with the lines
        msgs, rejs, sums = load(args[1:])
        if len(sums) != 1:
            die("%d summary objects" % len(sums))
        s = sums[0]
        for k in ("files", "published", "rejected", "failed", "bytes", "seconds",
                  "files_per_second", "dry_run", "rejected_by_reason", "failed_by_reason"):
            if k not in s:
                die("summary lacks %s: %s" % (k, json.dumps(s)))
        if s["dry_run"] is not (args[0] == "true"):
            die("summary dry_run is not %s: %s" % (args[0], json.dumps(s)))
        rej = Counter(o["reason"] for o in rejs if o["outcome"] == "rejected")
        fail = Counter(o["reason"] for o in rejs if o["outcome"] == "failed")
        want = {"published": len(msgs), "rejected": sum(rej.values()),
                "failed": sum(fail.values()), "files": len(msgs) + len(rejs),
                "bytes": sum(int(m["size"]) for m in msgs)}
        for k, v in want.items():
            if s[k] != v:
                die("summary %s is %s, the lines say %s: %s" % (k, s[k], v, json.dumps(s)))
        for k, c in (("rejected_by_reason", rej), ("failed_by_reason", fail)):
            if not isinstance(s[k], dict) or {r: n for r, n in s[k].items() if n} != dict(c):
                die("summary %s is %s, the lines say %s" % (k, json.dumps(s[k]), dict(c)))
    elif cmd == "get":
        # get FILE KEY : a key of the one summary object
        _, _, sums = load(args[:1])
        if len(sums) != 1:
            die("%d summary objects" % len(sums))
        print(json.dumps(sums[0].get(args[1]), sort_keys=True))
    else:
        die("unknown command " + cmd)


main()
EOF

GET=$WORK/amqpget.py
cat >"$GET" <<'EOF'
"""get URL QUEUE MAX BODIES PROPS : basic.get (no-ack) up to MAX messages;
one body per line to BODIES, their properties as JSON lines to PROPS."""
import json, socket, struct, sys
from urllib.parse import unquote, urlsplit


class Conn:
    def __init__(self, url):
        u = urlsplit(url)
        self.s = socket.create_connection((u.hostname, u.port or 5672), timeout=30)
        self.buf = b""
        self.s.sendall(b"AMQP\x00\x00\x09\x01")
        self.expect(0, 10, 10)                                      # connection.start
        auth = b"\0" + unquote(u.username).encode() + b"\0" + unquote(u.password).encode()
        self.method(0, 10, 11, b"\0\0\0\0" + self.ss(b"PLAIN") + self.ls(auth) + self.ss(b"en_US"))
        args = self.expect(0, 10, 30)                               # connection.tune
        chmax, fmax, _ = struct.unpack(">HIH", args[:8])
        self.method(0, 10, 31, struct.pack(">HIH", chmax, fmax, 0))
        vhost = unquote(u.path[1:]) if len(u.path) > 1 else "/"
        self.method(0, 10, 40, self.ss(vhost.encode()) + b"\0\0")
        self.expect(0, 10, 41)                                      # connection.open-ok
        self.method(1, 20, 10, b"\0")
        self.expect(1, 20, 11)                                      # channel.open-ok

    @staticmethod
    def ss(b):
        return bytes([len(b)]) + b

    @staticmethod
    def ls(b):
        return struct.pack(">I", len(b)) + b

    def frame(self, ftype, ch, payload):
        self.s.sendall(struct.pack(">BHI", ftype, ch, len(payload)) + payload + b"\xce")

    def method(self, ch, cls, mth, args):
        self.frame(1, ch, struct.pack(">HH", cls, mth) + args)

    def read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise SystemExit("the broker closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def next_frame(self):
        while True:
            ftype, ch, size = struct.unpack(">BHI", self.read(7))
            payload = self.read(size)
            if self.read(1) != b"\xce":
                raise SystemExit("bad frame end")
            if ftype != 8:                                          # skip heartbeats
                return ftype, ch, payload

    def expect(self, ch, cls, mth):
        ftype, fch, p = self.next_frame()
        got = struct.unpack(">HH", p[:4]) if ftype == 1 else None
        if got == (10, 50) or got == (20, 40):
            code, = struct.unpack(">H", p[4:6])
            raise SystemExit("closed by the broker: %d %s" % (code, p[7:7 + p[6]].decode()))
        if (ftype, fch) != (1, ch) or got != (cls, mth):
            raise SystemExit("unexpected frame %r %r" % (ftype, got))
        return p[4:]

    def get(self, queue):
        """(properties, body) of the next message, or None when empty."""
        self.method(1, 60, 70, b"\0\0" + self.ss(queue.encode()) + b"\x01")
        ftype, _, p = self.next_frame()
        cls_mth = struct.unpack(">HH", p[:4])
        if cls_mth == (60, 72):
            return None
        if cls_mth != (60, 71):
            raise SystemExit("unexpected reply to basic.get %r" % (cls_mth,))
        args = p[4:]
        off = 8 + 1                                                 # delivery tag, redelivered
        exchange = args[off + 1:off + 1 + args[off]].decode()
        off += 1 + args[off]
        rkey = args[off + 1:off + 1 + args[off]].decode()
        ftype, _, h = self.next_frame()
        _, _, size, flags = struct.unpack(">HHQH", h[:14])
        props, off = {"exchange": exchange, "routing_key": rkey}, 14
        for bit, name, kind in ((15, "content_type", "s"), (14, "content_encoding", "s"),
                                (13, "headers", "t"), (12, "delivery_mode", "B"),
                                (11, "priority", "B"), (10, "correlation_id", "s"),
                                (9, "reply_to", "s"), (8, "expiration", "s"),
                                (7, "message_id", "s"), (6, "timestamp", "Q"),
                                (5, "type", "s"), (4, "user_id", "s"), (3, "app_id", "s"),
                                (2, "cluster_id", "s")):
            if not flags & (1 << bit):
                continue
            if kind == "s":
                props[name] = h[off + 1:off + 1 + h[off]].decode()
                off += 1 + h[off]
            elif kind == "t":
                n, = struct.unpack(">I", h[off:off + 4])
                props[name] = "<table of %d bytes>" % n
                off += 4 + n
            elif kind == "B":
                props[name] = h[off]
                off += 1
            else:
                props[name], = struct.unpack(">Q", h[off:off + 8])
                off += 8
        body = b""
        while len(body) < size:
            ftype, _, part = self.next_frame()
            body += part
        return props, body

    def close(self):
        self.method(0, 10, 50, struct.pack(">H", 200) + self.ss(b"bye") + b"\0\0\0\0")
        self.expect(0, 10, 51)
        self.s.close()


def main():
    url, queue, most, bodies, props = sys.argv[1:6]
    c = Conn(url)
    n = 0
    with open(bodies, "wb") as fb, open(props, "w") as fp:
        while n < int(most):
            m = c.get(queue)
            if m is None:
                break
            fb.write(m[1] + b"\n")
            fp.write(json.dumps(m[0], sort_keys=True) + "\n")
            n += 1
    c.close()
    print(n)


main()
EOF

# pycheck WHAT CMD ARGS... : one check, passed when the checker is happy.
pycheck() {
    local what=$1 msg
    shift
    checks=$((checks + 1))
    if ! msg=$("$PY3" "$PY" "$@" 2>&1); then
        fail "$what: $(printf '%s' "$msg" | head -c 1500)"
    fi
}

# expect_eq GOT WANT WHAT
expect_eq() {
    checks=$((checks + 1))
    [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

# expect_re FILE ERE WHAT : a line of stdout/stderr matches ERE.
expect_re() {
    checks=$((checks + 1))
    grep -Eq -- "$2" "$WORK/$1" || fail "$3: no line of std$1 matches /$2/: $(head -c 600 "$WORK/$1")"
}

# summary KEY : a key of the --json summary of the last run.
summary() { "$PY3" "$PY" get "$WORK/out" "$1" 2>&1 || true; }

# topo N [OPTIONS] : set $q and $ex to a queue and an exchange of their own
# for part N of the test (a direct exchange shared by two queues bound with
# the same key would route every message to both), and remember the queues.
topo() {
    q="scan-$tag-$1"
    ex="scan-ex-$tag-$1"
    declared+=("$q" "$q.dead")
}

# scanq ARGS... : scan into $q through $ex.
scanq() { run env AMQP_URL="$url" timeout 300 "$SCAN" --queue "$q" --exchange "$ex" "$@"; }

# count [OPTIONS] : the number of messages in $q (scan --check declares
# nothing new: the topology exists already).
count() {
    env AMQP_URL="$url" "$SCAN" --check --queue "$q" --exchange "$ex" "$@" |
        sed -n "s/.*queue '[^']*' ([a-z]*) has \([0-9]*\) messages and.*/\1/p"
}

# drain MAX : take up to MAX messages off $q (acknowledged, so gone) into
# $WORK/bodies and their properties into $WORK/props; prints how many.
drain() { "$PY3" "$GET" "$url" "$q" "$1" "$WORK/bodies" "$WORK/props"; }

# --- 3000 files: one message per accepted file, with the right fields ---------
topo big
t=$WORK/big
"$PY3" - "$t" <<'PYEOF'
import os, sys
t = sys.argv[1]
for i in range(3000):
    d = os.path.join(t, "d%d" % (i % 6), "e%d" % (i % 4))
    os.makedirs(d, exist_ok=True)
    name = "f%d.tmp" % i if i % 10 == 0 else "f%d.dat" % i
    with open(os.path.join(d, name), "w") as f:
        f.write("%d\n" % i * (i % 7))
for i in range(5):
    open(os.path.join(t, "d1", ".h%d" % i), "w").close()
PYEOF
scanq --exclude '*.tmp' --json --rejects "$WORK/rej" "$t"
expect_rc 0 "scan of 3005 entries"
expect_lines out 1 "only the --json summary on stdout"
expect_eq "$(summary published)" 2700 "published"
expect_eq "$(summary rejected_by_reason)" '{"excluded": 300, "hidden": 5}' "rejected by reason"
expect_eq "$(summary dry_run)" false "summary dry_run"
expect_re err '^scan: 3005 files: 2700 published, 305 rejected, 0 failed in [0-9]+\.[0-9]{2} s \([0-9]+ files/s\)$' \
    "summary line"
expect_eq "$(count)" 2700 "the queue holds one message per accepted file"
expect_eq "$(drain 5000)" 2700 "messages taken off the queue"
pycheck "every message matches its file" checkmsg present "$WORK/bodies"
pycheck "the --json summary agrees with the queue and --rejects" summary false "$WORK/bodies" \
    "$WORK/rej" "$WORK/out"
pycheck "AMQP properties" props "$WORK/bodies" "$WORK/props" "$ex" files
checks=$((checks + 1))
find "$t" -type f -name '*.dat' -printf '%P\n' | sort >"$WORK/want"
"$PY3" "$PY" paths "$WORK/bodies" | sort >"$WORK/got"
cmp -s "$WORK/want" "$WORK/got" || fail "the queue does not hold exactly the accepted files: $(diff "$WORK/want" "$WORK/got" | head -5)"
checks=$((checks + 1))
[ -z "$("$PY3" "$PY" ids "$WORK/bodies" | uniq -d)" ] || fail "duplicate ids in one scan"
expect_eq "$(count)" 0 "the queue is empty once drained"

# --- awkward names arrive intact; a rerun publishes again ---------------------------
topo names
t=$WORK/names
mkdir -p "$t/dir"$'\xff'
for f in "with space.txt" $'new\nline.txt' "-dash.txt" $'\xff\xfe.bin' 'q"uo\te.txt' \
    $'tab\there' "café.txt" "dir"$'\xff'"/inner"; do
    printf 'x' >"$t/$f"
done
run "$SCAN" --dry-run "$t"
expect_rc 0 "dry run of the names"
cp "$WORK/out" "$WORK/dry"
expect_lines out 8 "eight messages in the dry run"
scanq -q "$t"
expect_rc 0 "scan of the names"
expect_lines err 0 "-q: nothing on stderr"
expect_lines out 0 "nothing on stdout without --json"
scanq -q "$t"
expect_rc 0 "second scan of the names"
expect_eq "$(count)" 16 "a rerun publishes every file again"
expect_eq "$(drain 100)" 16 "messages of the names taken off the queue"
pycheck "names reach the queue intact (as the dry run printed them), twice" times 2 \
    "$WORK/dry" "$WORK/bodies"
pycheck "names: messages match their files" checkmsg present "$WORK/bodies"
pycheck "names: AMQP properties" props "$WORK/bodies" "$WORK/props" "$ex" files

# --- an empty directory publishes nothing ------------------------------------------------
topo empty
mkdir "$WORK/empty"
scanq --json "$WORK/empty"
expect_rc 0 "empty directory"
expect_eq "$(summary files)" 0 "empty directory: no files"
expect_re err '^scan: 0 files: 0 published, 0 rejected, 0 failed in ' "empty directory summary line"
expect_eq "$(count)" 0 "empty directory: empty queue"

# Another routing key: the queue is bound with it and gets the messages.
topo key
scanq --routing-key "rk-$tag" --json "$WORK/names"
expect_rc 0 "--routing-key"
expect_eq "$(count --routing-key "rk-$tag")" 8 "--routing-key: queue bound with that key"
expect_eq "$(drain 100)" 8 "--routing-key: messages"
pycheck "--routing-key: AMQP properties" props "$WORK/bodies" "$WORK/props" "$ex" "rk-$tag"

# --- the broker nacks: a classic queue that refuses more than 5 messages ------------------
topo nack
mkdir "$WORK/twenty"
for i in $(seq 20); do echo "$i" >"$WORK/twenty/f$i"; done
env AMQP_URL="$url" "$SCAN" --check --queue "$q" --exchange "$ex" --queue-type classic >/dev/null
policy="scan-nack-$tag"
"$BROKER_SH" ctl set_policy "$policy" "^$q\$" '{"max-length":5,"overflow":"reject-publish"}' \
    --apply-to queues >/dev/null || fail "rabbitmqctl set_policy"
scanq --queue-type classic --json --rejects "$WORK/rej" "$WORK/twenty"
expect_rc 1 "nacked messages fail the run"
expect_eq "$(summary published)" 5 "nack: published"
expect_eq "$(summary failed_by_reason)" '{"nacked": 15}' "nack: failed as nacked"
expect_eq "$(grep -c '"reason":"nacked"' "$WORK/rej")" 15 "nack: one --rejects line per nacked file"
expect_re err '^scan: 20 files: 5 published, 0 rejected, 15 failed in ' "nack: summary line"
expect_eq "$(count --queue-type classic)" 5 "nack: the queue holds the accepted ones"
expect_eq "$(drain 100)" 5 "nack: messages taken off the queue"
pycheck "nack: the summary agrees with the queue and --rejects" summary false "$WORK/bodies" \
    "$WORK/rej" "$WORK/out"
"$BROKER_SH" ctl clear_policy "$policy" >/dev/null 2>&1 || true
policy=

# --- unroutable: the queue is deleted mid-scan, leaving no binding -------------------------
# scan declares and binds its queue itself, so a missing binding only happens
# when someone deletes the queue while scan runs. A classic queue: deleting a
# quorum queue under a publisher makes RabbitMQ 3.10 close the connection
# (INTERNAL_ERROR), and scan then reconnects and declares it again.
topo unroutable
t=$WORK/many
"$PY3" - "$t" <<'PYEOF'
import os, sys
for i in range(20000):
    d = os.path.join(sys.argv[1], "d%d" % (i % 20))
    if i < 20:
        os.makedirs(d)
    with open(os.path.join(d, "f%d" % i), "w") as f:
        f.write("x")
PYEOF
env AMQP_URL="$url" "$SCAN" --check --queue "$q" --exchange "$ex" --queue-type classic >/dev/null
(
    set +e
    env AMQP_URL="$url" timeout 300 "$SCAN" --queue "$q" --exchange "$ex" --queue-type classic \
        --no-mime -j 1 --confirm-window 8 --json --rejects "$WORK/rej" "$t" \
        >"$WORK/out" 2>"$WORK/err"
    echo $? >"$WORK/rc"
) &
for _ in $(seq 200); do
    [ "$(count --queue-type classic)" -gt 0 ] && break
    sleep 0.05
done
amqp-delete-queue --url="$url" -q "$q" >/dev/null || fail "amqp-delete-queue"
wait
rc=$(cat "$WORK/rc")
if [ "$rc" -eq 0 ] && [ "$(summary published)" = 20000 ]; then
    echo "SKIP: scan finished before the queue was deleted: no unroutable check" >&2
else
    expect_rc 1 "unroutable messages fail the run"
    unroutable=$("$PY3" -c 'import json, sys; print(json.loads(sys.argv[1]).get("unroutable", 0))' \
        "$(summary failed_by_reason)")
    checks=$((checks + 1))
    [ "$unroutable" -gt 0 ] || fail "no file failed as unroutable: $(summary failed_by_reason)"
    expect_eq "$(summary failed)" "$unroutable" "unroutable is the only failure"
    expect_eq "$(($(summary published) + unroutable))" 20000 \
        "every accepted file published or unroutable"
    expect_eq "$(grep -c '"reason":"unroutable"' "$WORK/rej")" "$unroutable" \
        "one --rejects line per unroutable file"
fi

# --- the broker stops mid-scan -----------------------------------------------------------
topo stop
env AMQP_URL="$url" "$SCAN" --check --queue "$q" --exchange "$ex" >/dev/null
rm -f "$WORK/rej"
(
    set +e
    env AMQP_URL="$url" timeout 300 "$SCAN" --queue "$q" --exchange "$ex" --no-mime -j 1 \
        --confirm-window 16 --reconnect-timeout 0 --json --rejects "$WORK/rej" "$t" \
        >"$WORK/out" 2>"$WORK/err"
    echo $? >"$WORK/rc"
) &
for _ in $(seq 200); do
    [ "$(count)" -gt 0 ] && break
    sleep 0.05
done
"$BROKER_SH" stop || fail "broker.sh stop"
wait
rc=$(cat "$WORK/rc")
if [ "$rc" -eq 0 ]; then
    echo "SKIP: scan finished before the broker stopped: no lost-broker check" >&2
else
    expect_rc 69 "a lost broker that does not come back"
    expect_re err 'scan: .*: [0-9]+ messages? (was|were) not confirmed$' \
        "a sentence says how many messages were not confirmed"
    expect_in err "scan: lost the broker" "the sentence of the spec"
    n=$(sed -En 's/.*: ([0-9]+) messages? (was|were) not confirmed$/\1/p' "$WORK/err" | tail -1)
    expect_eq "$(grep -c '"reason":"unconfirmed"' "$WORK/rej" || true)" "${n:-none}" \
        "--rejects has one unconfirmed line per message not confirmed"
    expect_eq "$(grep -vc '"reason":"unconfirmed"' "$WORK/rej" || true)" 0 \
        "unconfirmed is the only failure"
fi
url2=$("$BROKER_SH" start) || fail "broker.sh start after stop"
expect_eq "$url2" "$url" "the broker comes back on the same URL"
scanq --json "$t"
expect_rc 0 "the rerun after the broker is back"
expect_eq "$(summary published)" 20000 "the rerun publishes every file"
checks=$((checks + 1))
n=$(count)
[ "${n:-0}" -ge 20000 ] || fail "after the rerun the queue holds $n messages, fewer than the 20000 files"

finish
