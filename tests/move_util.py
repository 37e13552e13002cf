"""Trees, manifests, crafted messages and checks for the move tests
(tests/broker/test_move*.sh): python3 move_util.py COMMAND ARGS..."""
import base64, hashlib, json, os, socket, stat, sys, time

sys.dont_write_bytecode = True          # no tests/__pycache__ in the source tree
from msgid import body_id, file_id, fmt_mtime, put_name  # noqa: E402


def die(msg):
    print(msg)
    sys.exit(1)


def mktree(top, n, seed):
    """n regular files under top with awkward names, modes, sizes, mtimes."""
    top = os.fsencode(top)
    modes = [0o644, 0o600, 0o755, 0o640, 0o444, 0o700]
    specials = [b"with space %d.txt", b"new\nline %d.dat", b"-dash%d.bin",
                b"lat\xe9%d.txt", b"d\xff/x%d", "caf\u00e9/\u00fcn\u00ef%d.txt".encode(),
                b"-dir/-f%d", b"q\"uo\\te\t%d", b"sub %d/deeper/file %d.txt",
                b"a.tar.%d.gz", b"noext%d"]
    os.makedirs(os.path.join(top, b"empty dir", b"nested"), exist_ok=True)
    for i in range(n):
        pat = specials[i % len(specials)]
        name = pat % ((i,) * pat.count(b"%d"))
        if i % 3 == 0:
            name = b"s%d/t%d/" % (i % 5, i % 2) + name
        if i == 7:
            name = b"L" * 240 + b"%d" % i
        p = os.path.join(top, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        size = 0 if i % 50 == 1 else (i * 37 + seed) % 5000
        data = b""
        h = hashlib.sha256(b"%d-%d" % (seed, i)).digest()
        while len(data) < size:
            data += h
            h = hashlib.sha256(h).digest()
        with open(p, "wb") as f:
            f.write(data[:size])
        os.chmod(p, modes[i % len(modes)])
        mt = 1600000000123456789 + i * 1000000007
        if i == 5:
            mt = -1500000000          # before the epoch
        elif i == 9:
            mt = 0
        os.utime(p, ns=(mt, mt))


def entries(top):
    """(relative path bytes, lstat) of everything below top but directories."""
    top = os.fsencode(top)
    for d, dirs, files in os.walk(top):
        for name in dirs + files:
            p = os.path.join(d, name)
            st = os.lstat(p)
            if not stat.S_ISDIR(st.st_mode):
                yield os.path.relpath(p, top), p, st


def manifest(top):
    out = []
    for rel, p, st in entries(top):
        if stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                what = "file " + hashlib.sha256(f.read()).hexdigest()
        elif stat.S_ISLNK(st.st_mode):
            what = "link " + repr(os.readlink(p))
        else:
            what = "type %o" % stat.S_IFMT(st.st_mode)
        out.append("%r\t%s\tsize %d\tmode %o\tmtime %d" % (rel, what, st.st_size,
                                                           stat.S_IMODE(st.st_mode),
                                                           st.st_mtime_ns))
    return sorted(out)


def msg(out, root, path, statfile, overrides):
    """A v1 message for root/path with statfile's identity (lstat; "-": none),
    then overrides KEY=JSON (KEY=- removes KEY), written to out ("-": stdout)."""
    rb, pb = os.fsencode(root), os.fsencode(path)
    if statfile == "-":
        dev = ino = size = mt = 0
        mode = 0o100644
    else:
        st = os.lstat(statfile)
        dev, ino, size, mt, mode = st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode
    m = {"v": 1, "id": file_id(dev, ino, size, mt, rb, pb)}
    put_name(m, "root", rb)
    put_name(m, "path", pb)
    m.update({"size": str(size), "mtime": fmt_mtime(mt), "dev": str(dev), "ino": str(ino),
              "mode": mode, "uid": os.getuid(), "gid": os.getgid(),
              "scanned_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
              "host": socket.gethostname()})
    for o in overrides:
        k, v = o.split("=", 1)
        if v == "-":
            m.pop(k, None)
        else:
            m[k] = json.loads(v)
    data = json.dumps(m, separators=(",", ":"), ensure_ascii=False).encode()
    if out == "-":
        sys.stdout.buffer.write(data)
    else:
        with open(out, "wb") as f:
            f.write(data)


def body_path(body):
    try:
        o = json.loads(body)
    except (ValueError, RecursionError):         # RecursionError: nested too deep
        return None
    if not isinstance(o, dict):
        return None
    if isinstance(o.get("path"), str):
        return o["path"].encode()
    if isinstance(o.get("path_b64"), str):
        return base64.b64decode(o["path_b64"])
    return None


def checkdead(dead, expect, dlx, key):
    """Each line of expect, REASON<TAB>@BODYFILE or REASON<TAB>PATH, matches
    exactly one dead-lettered message of dead (amqp_tool.py get output),
    which has nothing else; each was published to dlx with the routing key
    key."""
    with open(dead) as f:
        msgs = [json.loads(line) for line in f]
    for m in msgs:
        m["raw"] = base64.b64decode(m["body_b64"])
    with open(expect) as f:
        wants = [line.rstrip("\n").split("\t", 1) for line in f if line.strip()]
    problems = []
    for reason, what in wants:
        if what.startswith("@"):
            with open(what[1:], "rb") as f:
                body = f.read()
            hits = [m for m in msgs if m["raw"] == body]
            label = os.path.basename(what[1:])
        else:
            hits = [m for m in msgs if body_path(m["raw"]) == os.fsencode(what)]
            label = what
        if not hits:
            problems.append("%s (%s): not in the dead-letter queue" % (label, reason))
            continue
        m = hits[0]
        msgs.remove(m)
        h = m.get("headers") or {}
        got = h.get("x-scanmove-reason")
        if got != reason:
            problems.append("%s: x-scanmove-reason is %r, expected %r (headers %s)"
                            % (label, got, reason, json.dumps(h)[:300]))
        e = h.get("x-scanmove-error")
        if not isinstance(e, str) or not e:
            problems.append("%s: no x-scanmove-error sentence: %s" % (label, json.dumps(h)[:300]))
        if m.get("delivery_mode") != 2:
            problems.append("%s: delivery_mode %r, not persistent" % (label,
                                                                       m.get("delivery_mode")))
        if m.get("exchange") != dlx or m.get("routing_key") != key:
            problems.append("%s: published to %r with key %r, expected %r, %r"
                            % (label, m.get("exchange"), m.get("routing_key"), dlx, key))
        # An empty message_id is none at all (move keeps "" for an absent one).
        if (m.get("message_id") or None) != (body_id(m["raw"]) or None):
            problems.append("%s: message_id %r not kept (expected %r)"
                            % (label, m.get("message_id"), body_id(m["raw"])))
    for m in msgs:
        problems.append("unexpected dead-lettered message: %r, headers %s"
                        % (m["raw"][:200], json.dumps(m.get("headers"))[:300]))
    if problems:
        die("; ".join(problems))


def jcheck(out, pairs):
    """The --json summary in out has KEY=JSON for each pair (dead_by_reason
    compared without zero counts), and the documented keys."""
    with open(out) as f:
        text = f.read()
    try:
        s = json.loads(text)
    except ValueError as e:
        die("stdout is not one JSON object (%s): %r" % (e, text[:300]))
    if not isinstance(s, dict):
        die("summary is not an object: %r" % text[:300])
    for k in ("moved", "skipped", "duplicates", "dead_lettered", "requeued", "seconds",
              "files_per_second", "dead_by_reason"):
        if k not in s:
            die("summary lacks %s: %s" % (k, text[:300]))
    for k in ("seconds", "files_per_second"):
        if not isinstance(s[k], (int, float)) or isinstance(s[k], bool) or s[k] < 0:
            die("summary %s is not a number: %s" % (k, text[:300]))
    for p in pairs:
        k, v = p.split("=", 1)
        want, got = json.loads(v), s.get(k)
        if k == "dead_by_reason" and isinstance(got, dict):
            got = {r: n for r, n in got.items() if n}
        if got != want or type(got) is not type(want):
            die("summary %s is %s, expected %s: %s" % (k, json.dumps(got), v, text[:300]))


def same(a, b):
    """Files a and b have the same bytes, mode and mtime."""
    sa, sb = os.lstat(a), os.lstat(b)
    if not stat.S_ISREG(sb.st_mode):
        die("%r is not a regular file" % b)
    with open(a, "rb") as fa, open(b, "rb") as fb:
        if fa.read() != fb.read():
            die("%r and %r differ" % (a, b))
    if stat.S_IMODE(sa.st_mode) != stat.S_IMODE(sb.st_mode):
        die("%r has mode %o, %r %o" % (a, sa.st_mode, b, sb.st_mode))
    if sa.st_mtime_ns != sb.st_mtime_ns:
        die("%r has mtime %d, %r %d" % (a, sa.st_mtime_ns, b, sb.st_mtime_ns))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "mktree":
        mktree(args[0], int(args[1]), int(args[2]))
    elif cmd == "manifest":
        for line in manifest(args[0]):
            print(line)
    elif cmd == "files":
        # files DIR : relative paths of everything below DIR but directories
        for rel in sorted(r for r, _, _ in entries(args[0])):
            print(repr(rel))
    elif cmd == "msg":
        msg(args[0], args[1], args[2], args[3], args[4:])
    elif cmd == "checkdead":
        checkdead(args[0], args[1], args[2], args[3])
    elif cmd == "jcheck":
        jcheck(args[0], args[1:])
    elif cmd == "jnum":
        # jnum FILE KEY : an integer of the --json summary, or -1
        try:
            with open(args[0]) as f:
                v = json.load(f).get(args[1])
        except (OSError, ValueError, AttributeError):
            v = None
        print(v if isinstance(v, int) and not isinstance(v, bool) else -1)
    elif cmd == "same":
        same(args[0], args[1])
    elif cmd == "touchns":
        # touchns FILE DELTA_NS : shift the mtime by DELTA_NS
        st = os.lstat(args[0])
        os.utime(args[0], ns=(st.st_atime_ns, st.st_mtime_ns + int(args[1])))
    elif cmd == "replace":
        # replace FILE : the same size and mtime, another inode
        st = os.lstat(args[0])
        with open(args[0], "rb") as f:
            data = f.read()
        tmp = args[0] + ".new"
        with open(tmp, "wb") as f:
            f.write(bytes(b ^ 1 for b in data))
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.rename(tmp, args[0])
        if os.lstat(args[0]).st_ino == st.st_ino:
            die("the replacement got the same inode")
    elif cmd == "hold":
        # hold FILE SECONDS READY : an exclusive flock on FILE for SECONDS
        # (as a mover copying it holds one); READY is created once held.
        import fcntl
        with open(args[0], "rb") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            open(args[2], "w").close()
            time.sleep(float(args[1]))
    else:
        die("unknown command " + cmd)


main()
