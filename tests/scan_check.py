#!/usr/bin/env python3
"""Checks of scan's JSON lines for tests/cli/test_scan_*.sh and
tests/broker/test_scan_*.sh (standard library only): `scan_check.py COMMAND
ARGS...` prints what is wrong and exits 1."""
import base64, datetime, hashlib, json, os, re, shutil, socket, stat, subprocess, sys
from collections import Counter

sys.dont_write_bytecode = True          # no tests/__pycache__ in the source tree
from msgid import file_id, fmt_mtime  # noqa: E402

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


def split_args(args):
    i = args.index("--")
    return args[:i], args[i + 1:]


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
    pa = m.get("published_at", sa)
    if not isinstance(pa, str) or not re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", pa) or pa < sa:
        bad("published_at is not RFC 3339 UTC with milliseconds, at or after scanned_at")
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
    if m["id"] != file_id(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, root, path):
        bad("id is not the FNV-1a hash of docs/message-format.md")
    if "hash" in m:
        h = m["hash"]
        if not isinstance(h, str) or not re.fullmatch(r"xxh128:[0-9a-f]{32}|sha256:[0-9a-f]{64}", h):
            bad("hash is not xxh128:HEX32 or sha256:HEX64")
        want = content_hash(h.split(":")[0], root, path)
        if want is not None and h != want:
            bad("hash is not the hash of the file's content (%s)" % want)


def content_hash(alg, root, path):
    """The file's hash as scan --checksum writes it: sha256 by hashlib,
    xxh128 by xxhsum -H2 (xxhash package; None without it)."""
    with open(os.path.join(root, path), "rb") as f:
        data = f.read()
    if alg == "sha256":
        return "sha256:" + hashlib.sha256(data).hexdigest()
    if alg == "xxh128" and shutil.which("xxhsum"):
        out = subprocess.run(["xxhsum", "-H2", "-"], input=data, capture_output=True, check=True)
        return "xxh128:" + out.stdout.split()[0].decode()
    return None


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "outcomes":
        # outcomes ROOT FILE... -- PATH OUTCOME ... : every entry's outcomes
        # are exactly the expected one; ROOT ('' = any) is every line's root.
        files, pairs = split_args(args[1:])
        want_root = os.fsencode(args[0])
        msgs, rejs, _ = load(files)
        got = {}
        for o in msgs + rejs:
            root, path = check_names(o)
            if want_root and root != want_root:
                die("root is %r, expected %r: %s" % (root, want_root, json.dumps(o)))
            what = ("published" if "v" in o else "%s:%s" % (o["outcome"], o["reason"]))
            got.setdefault(path, []).append(what)
        want = {os.fsencode(pairs[i]): pairs[i + 1] for i in range(0, len(pairs), 2)}
        def show(p):
            return repr(p) if len(p) <= 100 else "<%d-byte path ending %r>" % (len(p), p[-20:])
        problems = []
        for p, w in sorted(want.items()):
            if got.get(p, []) != [w]:
                problems.append("%s: expected %s, got %s" % (show(p), w, got.get(p, "nothing")))
        for p, g in sorted(got.items()):
            if p not in want:
                problems.append("%s: unexpected %s" % (show(p), g))
        if problems:
            die("; ".join(problems))
    elif cmd == "field":
        # field FILE... -- PATH KEY : the value of KEY in the one line for PATH
        files, (path, key) = split_args(args)
        msgs, rejs, _ = load(files)
        hits = [o for o in msgs + rejs if check_names(o)[1] == os.fsencode(path)]
        if len(hits) != 1:
            die("%d lines for %r" % (len(hits), path))
        v = hits[0].get(key, "<absent>")
        print(v if isinstance(v, str) else json.dumps(v))
    elif cmd == "roots":
        msgs, rejs, _ = load(args)
        for r in sorted({check_names(o)[0] for o in msgs + rejs}):
            print(os.fsdecode(r))
    elif cmd == "ids":
        msgs, _, _ = load(args)
        for i in sorted(m["id"] for m in msgs):
            print(i)
    elif cmd == "checkmsg":
        # checkmsg any|present|absent FILE... : every message matches its file
        msgs, _, _ = load(args[1:])
        for m in msgs:
            check_msg(m, args[0])
    elif cmd == "paths":
        msgs, _, _ = load(args)
        for p in sorted(check_names(m)[1] for m in msgs):
            print(os.fsdecode(p))
    elif cmd == "times":
        # times N FILE1 FILE2 : each message of FILE1 (scanned_at and
        # published_at aside: a dry run publishes nothing) is in FILE2
        # exactly N times, and FILE2 has nothing else
        def key(m):
            return json.dumps({k: v for k, v in m.items()
                               if k not in ("scanned_at", "published_at")}, sort_keys=True)
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
        for k in ("files", "published", "rejected", "failed", "bytes"):
            if not isinstance(s[k], int) or isinstance(s[k], bool) or s[k] < 0:
                die("summary %s is not a count: %s" % (k, json.dumps(s)))
        for k in ("seconds", "files_per_second"):
            if not isinstance(s[k], (int, float)) or isinstance(s[k], bool) or s[k] < 0:
                die("summary %s is not a number: %s" % (k, json.dumps(s)))
        if s["dry_run"] is not (args[0] == "true"):
            die("summary dry_run is not %s: %s" % (args[0], json.dumps(s)))
        rej = Counter(o["reason"] for o in rejs if o["outcome"] == "rejected")
        fail = Counter(o["reason"] for o in rejs if o["outcome"] == "failed")
        want = {"published": len(msgs), "rejected": sum(rej.values()),
                "failed": sum(fail.values()),
                "files": len(msgs) + len(rejs),
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
