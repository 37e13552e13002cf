"""The hostile-message corpus of tests/faults/test_hostile_messages.sh
(Python 3, standard library only): python3 gen.py COMMAND ARGS...

The corpus is the *.msg files of this directory, one message body each,
named EXPECTED-REASON--what.msg: the mover must dead-letter the body with
x-scanmove-reason EXPECTED-REASON. They are templates: @ROOT@ (the allowed
root), @H@ (its parent), @CANARY@ (a directory outside every root) and @ID@
(an id of 32 hex digits, a different one per file) are replaced before
publishing, JSON-escaped. Each has one defect, so that the expected reason
does not depend on the decoder's order of checks (docs/message-format.md).
The big and binary ones (raw NUL bytes, broken UTF-8, deep nesting, long
paths, a 1 MiB body) are made here, as are ~14 good messages for real files.

  gen.py tree H CANARY
      the scenario's tree: H/intake (the root, with a FIFO, a socket, a
      character device when mknod works, symlinks out of it, to its parent,
      to itself, in a loop, and the files the good messages name),
      H/in, H/intake2, H/canarylink (roots that are not allowed) and CANARY
  gen.py hostile OUT EXPECT H CANARY
      every hostile body into OUT; one line "REASON<TAB>@BODY" each into
      EXPECT (the format of move_util.py checkdead)
  gen.py good OUT WANT H
      the good bodies into OUT (good--*.msg); WANT gets the relative path
      of each file, base64, one a line
  gen.py order OUT
      the bodies of OUT in publishing order (good ones mixed in), one a line
  gen.py files DIR
      the relative path (base64) of everything below DIR but directories,
      sorted; walks with directory fds, so deeper than PATH_MAX is fine
  gen.py logcheck ERR EXPECT
      the mover's stderr ERR has exactly one "move: error: dead-lettered ID
      (REASON): ..." line per line of EXPECT, with the message's id (its
      message_id, "-" when it has none), and nothing else but the summary
"""
import base64, json, os, re, socket, stat, sys

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from msgid import body_id, file_id, fmt_mtime, fnv128, put_name  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = socket.gethostname()
DEEP_DIRS = [b"d" * 255] * 15 + [b"e" * 60]       # a directory path of 3900 bytes


def die(msg):
    print(msg)
    sys.exit(1)


def jesc(b):
    """bytes as the inside of a JSON string (UTF-8 kept, the rest escaped)."""
    return json.dumps(os.fsdecode(b), ensure_ascii=False)[1:-1].encode()


def message(root, path, st):
    """A v1 message (a dict, in the encoder's field order) for root/path
    whose lstat is st, as scan would write it."""
    rb, pb = os.fsencode(root), os.fsencode(path)
    m = {"v": 1, "id": file_id(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, rb, pb)}
    put_name(m, "root", rb)
    put_name(m, "path", pb)
    m.update({"size": str(st.st_size), "mtime": fmt_mtime(st.st_mtime_ns),
              "dev": str(st.st_dev), "ino": str(st.st_ino), "mode": st.st_mode,
              "uid": st.st_uid, "gid": st.st_gid, "scanned_at": "2026-11-25T12:00:00.123Z",
              "host": HOST})
    return m


def enc(m, ascii_only=False):
    return json.dumps(m, separators=(",", ":"), ensure_ascii=ascii_only).encode()


def write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def opendirs(top, names, create):
    """An fd of top/names[0]/names[1]/..., made with mkdirat when create."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for n in names:
        if create and not os.path.lexists(os.path.join(b"/proc/self/fd/%d" % fd, n)):
            os.mkdir(n, dir_fd=fd)
        nfd = os.open(n, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        os.close(fd)
        fd = nfd
    return fd


# ---------------------------------------------------------------- the tree --

def tree(h, canary):
    h, canary = os.fsencode(h), os.fsencode(canary)
    r = os.path.join(h, b"intake")
    for d in (r, os.path.join(r, b"sub"), os.path.join(h, b"in"), os.path.join(h, b"intake2"),
              os.path.join(canary, b"secret")):
        os.makedirs(d, exist_ok=True)
    write(os.path.join(canary, b"passwd"), b"root:x:0:0:root:/root:/bin/sh\n")
    write(os.path.join(canary, b"secret", b"id_rsa"), b"-----BEGIN KEY-----\n", 0o600)
    write(os.path.join(h, b"in", b"file.txt"), b"a root that is a prefix of the allowed one\n")
    write(os.path.join(h, b"intake2", b"file.txt"), b"a root the allowed one is a prefix of\n")
    os.symlink(canary, os.path.join(h, b"canarylink"))
    write(os.path.join(r, b"victim.txt"), b"scanned as another inode\n")
    os.symlink(canary, os.path.join(r, b"link"))
    os.symlink(os.path.join(canary, b"passwd"), os.path.join(r, b"lnfile"))
    os.symlink(b"victim.txt", os.path.join(r, b"lninside"))
    os.symlink(b"no such target", os.path.join(r, b"dangling"))
    os.symlink(b"loop2", os.path.join(r, b"loop1"))
    os.symlink(b"loop1", os.path.join(r, b"loop2"))
    os.symlink(b"..", os.path.join(r, b"up"))
    os.symlink(b".", os.path.join(r, b"self"))
    os.mkfifo(os.path.join(r, b"fifo"))
    cwd = os.getcwd()
    os.chdir(r)                       # a socket's path must be short
    try:
        socket.socket(socket.AF_UNIX).bind("sock")
    finally:
        os.chdir(cwd)
    try:
        os.mknod(os.path.join(r, b"chardev"), 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except OSError as e:
        print("SKIP: cannot make a character device (%s): no chardev message" % e.strerror)


# ---------------------------------------------------------------- hostile --

def hostile(out, expect, h, canary):
    h, canary = os.fsencode(h), os.fsencode(canary)
    root = os.path.join(h, b"intake")
    subst = {b"@ROOT@": jesc(root), b"@H@": jesc(h), b"@CANARY@": jesc(canary)}
    bodies = {}
    for name in sorted(os.listdir(HERE)):
        if not name.endswith(".msg"):
            continue
        with open(os.path.join(HERE, name), "rb") as f:
            b = f.read()
        for k, v in subst.items():
            b = b.replace(k, v)
        bodies[name[:-4]] = b.replace(b"@ID@", fnv128(name.encode()).encode())

    # A valid body for a file that does not exist, to break in one place.
    base = {"v": 1, "id": "", "root": os.fsdecode(root), "path": "nowhere.txt", "size": "0",
            "mtime": "0.000000000", "dev": "0", "ino": "0", "mode": 33188, "uid": 0, "gid": 0,
            "scanned_at": "2026-11-25T12:00:00.123Z", "host": "hostile.example"}

    def gen(name, b):
        if name in bodies:
            die("two bodies are called " + name)
        bodies[name] = b

    def body(name, **kw):
        """base with kw, and an id of its own."""
        return enc(dict(base, id=fnv128(name.encode()), **kw))

    def raw(name, old, new, **kw):
        """body(name, **kw) with old replaced by raw bytes."""
        b = body(name, **kw)
        if old not in b:
            die("%s: no %r in %r" % (name, old, b[:200]))
        return b.replace(old, new, 1)

    def path_bytes(name, p):
        return raw(name, b'"nowhere.txt"', b'"' + p + b'"')

    for n, kw in (("oversized--body-1mib", {"pad": "x" * (1 << 20)}),
                  ("oversized--body-65537-bytes", {"pad": ""})):
        b = body(n, **kw)
        if kw["pad"] == "":
            b = b.replace(b'"pad":""', b'"pad":"' + b"x" * (65537 - len(b)) + b'"')
        gen(n, b)
    gen("malformed-json--nested-10000-arrays", b"[" * 10000 + b"]" * 10000)
    gen("malformed-json--nested-10000-unclosed", b"[" * 10000)
    gen("malformed-json--nested-10000-objects", b'{"a":' * 10000 + b"1" + b"}" * 10000)
    n = "malformed-json--nested-10000-in-unknown-field"
    gen(n, raw(n, b'"@D@"', b"[" * 10000 + b"]" * 10000, deep="@D@"))
    n = "nul-byte--raw-in-path"
    gen(n, path_bytes(n, b"nowhere.txt\0/../../etc/passwd"))
    gen("nul-byte--raw-after-object", body("nul-byte--raw-after-object") + b"\0")
    gen("nul-byte--raw-only", b"\0")
    gen("nul-byte--utf16-body", ('{"v":1,"id":"%s"}' % fnv128(b"u16")).encode("utf-16"))
    # Broken UTF-8 in the strings the decoder reads: bad-value.
    for n, p in (("truncated-in-path", b"now\xc3"), ("truncated-4-byte", b"now\xf0\x9f\x98"),
                 ("overlong-slash-2", b"sub\xc0\xafvictim.txt"),
                 ("overlong-slash-3", b"sub\xe0\x80\xafvictim.txt"),
                 ("overlong-slash-4", b"sub\xf0\x80\x80\xafvictim.txt"),
                 ("overlong-nul", b"now\xc0\x80here.txt"),
                 ("overlong-dotdot", b"\xc0\xae\xc0\xae/\xc0\xae\xc0\xae/canary/passwd"),
                 ("surrogate-raw", b"now\xed\xa0\x80"),
                 ("surrogate-pair-cesu8", b"now\xed\xa0\xbd\xed\xb8\x80"),
                 ("above-10ffff", b"now\xf4\x90\x80\x80"), ("byte-f5", b"now\xf5\x80\x80\x80"),
                 ("byte-ff", b"now\xff"), ("lone-continuation", b"now\x80")):
        n = "bad-value--utf8-" + n
        gen(n, path_bytes(n, p))
    for n, k, v in (("host", "host", b"h\xffst"), ("scanned-at", "scanned_at", b"2026\xe2\x80"),
                    ("mime", "mime", b"text/\xc0\xafplain"), ("root", "root", jesc(root) + b"\xff")):
        n = "bad-value--utf8-in-" + n
        gen(n, raw(n, b"@X@", v, **{k: "@X@"}))
    # All strings must be valid UTF-8 (docs/message-format.md), so the keys
    # and values of unknown fields too, as for NUL bytes.
    n = "bad-value--utf8-in-unknown-key"
    gen(n, raw(n, b'"@K@"', b'"\xff\xfe"', **{"@K@": "v"}))
    n = "bad-value--utf8-in-unknown-value"
    gen(n, raw(n, b"@X@", b"\xc3(", note="@X@"))
    # Cut inside a character at the very end of the body: incomplete JSON.
    n = "malformed-json--utf8-truncated-at-end"
    gen(n, body(n, host="\u20ac")[:-4])
    n = "malformed-json--bom"
    gen(n, b"\xef\xbb\xbf" + body(n))
    # Lengths: 4096 bytes of root or path is the most (MSG_PATH_MAX).
    deep = b"/".join(DEEP_DIRS)
    for n, p in (("path-too-long--path-4097-bytes", deep + b"/" + b"n" * (4097 - len(deep) - 1)),
                 ("path-too-long--path-4100-slashes", b"a" + b"/" * 4100 + b"b"),
                 ("vanished--path-4096-bytes", deep + b"/" + b"v" * (4096 - len(deep) - 1))):
        gen(n, body(n, path=os.fsdecode(p)))
    n = "path-too-long--path-b64-4097-bytes"
    gen(n, raw(n, b'"path":"nowhere.txt"', b'"path_b64":"' + base64.b64encode(
        b"\xff" + b"p" * 4096) + b'"'))
    n = "path-too-long--root-4097-bytes"
    gen(n, body(n, root="/" + "r" * 4096))
    n = "root-not-allowed--root-4096-bytes"
    gen(n, body(n, root="/" + "r" * 4095))
    try:
        chardev = stat.S_ISCHR(os.lstat(os.path.join(root, b"chardev")).st_mode)
    except FileNotFoundError:
        chardev = False
    if chardev:
        gen("not-regular--chardev", body("not-regular--chardev", path="chardev"))

    seen = {}
    with open(expect, "w") as ex:
        for name in sorted(bodies):
            b = bodies[name]
            if b in seen:
                die("%s and %s have the same body" % (seen[b], name))
            seen[b] = name
            p = os.path.join(out, name)
            write(p, b)
            ex.write("%s\t@%s\n" % (name.split("--")[0], p))


# ------------------------------------------------------------------- good --

def good(out, want, h):
    root = os.path.join(os.fsencode(h), b"intake")
    made = []

    def mk(rel, data, mode=0o644, mtime_ns=None):
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        write(p, data, mode)
        if mtime_ns is not None:
            os.utime(p, ns=(mtime_ns, mtime_ns))
        made.append(rel)
        return message(root, rel, os.lstat(p))

    def save(name, b):
        write(os.path.join(out, "good--" + name + ".msg"), b)

    save("plain", enc(mk(b"good.txt", b"good\n")))
    save("subdirectory", enc(mk(b"sub/in.txt", b"in a subdirectory\n", 0o600)))
    save("newline-in-name", enc(mk(b"new\nline.txt", b"newline\n")))
    save("latin1-name-as-path-b64", enc(mk(b"caf\xe9.bin", bytes(range(256)))))
    save("non-ascii-as-escapes", enc(mk("smile \U0001F600 \u00e9t\u00e9.txt".encode(), b"esc\n"),
                                     ascii_only=True))
    save("literal-backslash-u0000", enc(mk(b"a\\u0000b.txt", b"not a NUL\n")))
    save("dots-that-are-not-dotdot", enc(mk(b"..a/.../...b", b"dots\n")))
    save("mtime-before-epoch", enc(mk(b"old.txt", b"old\n", mtime_ns=-1500000001)))
    m = mk(b"mime-empty.txt", b"mime\n")
    m["mime"] = ""
    save("mime-empty", enc(m))
    # Unknown fields of every type are ignored, even ones that look like ours.
    m = mk(b"unknown-fields.txt", b"unknown fields\n")
    m.update({"Path": "../../etc/passwd", "PATH": "/etc/passwd", "root ": "/",
              "o": {"path": "/etc/passwd", "v": 2}, "a": [1, "x", None, True, {"b": []}],
              "n": None, "t": False, "f": -1.5e300, "inf": 0, "deep": "@D@"})
    b = enc(m).replace(b'"inf":0', b'"inf":1e400').replace(b'"@D@"', b"[" * 500 + b"]" * 500)
    save("unknown-fields", b)
    # Integers written as floats are the same values; v too.
    m = mk(b"floats.txt", b"floats\n")
    b = enc(m)
    for k in ("v", "mode", "uid", "gid"):
        b = b.replace(b'"%s":%d' % (k.encode(), m[k]), b'"%s":%d.0' % (k.encode(), m[k]), 1)
    b = b.replace(b'"uid":%d.0' % m["uid"], b'"uid":%de0' % m["uid"])
    save("integers-as-floats", b)
    # Any field order; keys spelt with escapes.
    m = mk(b"reversed.txt", b"reversed\n")
    b = enc(dict(reversed(list(m.items()))))
    b = b.replace(b'"path":', b'"\\u0070ath":').replace(b'"host":', b'"h\\u006fst":')
    save("fields-reversed-keys-escaped", b)
    # Exactly MSG_MAX_BYTES.
    m = mk(b"pad.txt", b"padded body\n")
    m["pad"] = ""
    b = enc(m)
    save("body-of-65536-bytes", b.replace(b'"pad":""', b'"pad":"' + b"x" * (65536 - len(b)) + b'"'))
    # A path of 4096 bytes: the longest allowed; deeper than one open() takes.
    fd = opendirs(root, DEEP_DIRS, True)
    deep = b"/".join(DEEP_DIRS)
    leaf = b"f" * (4096 - len(deep) - 1)
    try:
        wfd = os.open(leaf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=fd)
        os.write(wfd, b"4096\n")
        os.close(wfd)
        st = os.lstat(leaf, dir_fd=fd)
    finally:
        os.close(fd)
    made.append(deep + b"/" + leaf)
    save("path-of-4096-bytes", enc(message(root, deep + b"/" + leaf, st)))
    with open(want, "w") as f:
        for rel in sorted(made):
            f.write(base64.b64encode(rel).decode() + "\n")


# ------------------------------------------------------------------ checks --

def files(top):
    out = []
    for dirpath, dirs, names, dfd in os.fwalk(os.fsencode(top)):
        for n in names:
            p = os.path.join(dirpath, n)
            out.append(base64.b64encode(os.path.relpath(p, os.fsencode(top))).decode())
        # fwalk lists symlinks to directories among dirs: report them too
        for n in dirs:
            if stat.S_ISLNK(os.lstat(n, dir_fd=dfd).st_mode):
                out.append(base64.b64encode(
                    os.path.relpath(os.path.join(dirpath, n), os.fsencode(top))).decode())
    for line in sorted(out):
        print(line)


def logcheck(err, expect):
    with open(err, "rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    want = []
    with open(expect) as f:
        for line in f:
            reason, what = line.rstrip("\n").split("\t", 1)
            with open(what[1:], "rb") as b:
                want.append((reason, body_id(b.read()), os.path.basename(what)))
    # "dead-lettered ROOT/PATH (id ID, REASON): WHY", or "a message" for a
    # body that could not be decoded; a root not served is also said once.
    pat = re.compile(rb"^move: error: dead-lettered (.+) \(id (\S+), ([a-z-]+)\): \S.*$")
    got, problems = [], []
    for ln in lines:
        if re.match(rb"^move: (notice: \d+ moved, |error: queue '.*' holds files of )", ln):
            continue
        m = pat.match(ln)
        if not m:
            problems.append("a line of stderr is no dead-letter line: %r" % ln[:200])
            continue
        got.append((m.group(3).decode(), m.group(2)))
    # An id a log line can show as it is: exactly it ("-" for none). Others
    # (control characters, spaces): any one word, but on the one line.
    exact, loose = {}, []
    for reason, mid, name in want:
        if not mid:
            exact.setdefault((reason, b"-"), []).append(name)
        elif re.fullmatch(r"[!-~]+", mid):
            exact.setdefault((reason, mid.encode()), []).append(name)
        else:
            loose.append((reason, name))
    for (reason, w), names in sorted(exact.items()):
        hits = [g for g in got if g == (reason, w)][:len(names)]
        for g in hits:
            got.remove(g)
        if len(hits) < len(names):
            problems.append("%d of %d lines 'move: error: dead-lettered %s (%s): ...' (%s)"
                            % (len(hits), len(names), w.decode(errors="replace")[:140], reason,
                               names[0] if len(names) == 1 else "%d messages" % len(names)))
    for reason, name in loose:
        hit = next((g for g in got if g[0] == reason), None)
        if hit is None:
            problems.append("%s: no dead-letter line with reason %s" % (name, reason))
        else:
            got.remove(hit)
    for reason, mid in got:
        problems.append("an extra dead-letter line: %r (%s)" % (mid[:140], reason))
    if problems:
        die("; ".join(problems))


def order(out):
    names = sorted(os.listdir(out), key=lambda n: fnv128(n.encode()))
    for n in names:
        print(os.path.join(out, n))


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "tree":
        tree(a[0], a[1])
    elif cmd == "hostile":
        hostile(a[0], a[1], a[2], a[3])
    elif cmd == "good":
        good(a[0], a[1], a[2])
    elif cmd == "order":
        order(a[0])
    elif cmd == "files":
        files(a[0])
    elif cmd == "logcheck":
        logcheck(a[0], a[1])
    else:
        die("unknown command " + cmd)


if __name__ == "__main__":
    main()
