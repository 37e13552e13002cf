"""A hostile tree for scan, and the checks of tests/faults/test_hostile_trees.sh
(Python 3, standard library only): python3 tree.py COMMAND ARGS...

  tree.py build ROOT CANARY EXPECT NBIG LOCKED
      make the tree under ROOT (symlink loops, links to its parent, to
      itself and out to CANARY, a FIFO, a socket, device nodes when mknod
      works, names of 255 bytes, with newlines and invalid UTF-8, relative
      paths of 4095 and 4096+ bytes, 2047 directories deep, a directory of
      NBIG entries, and with LOCKED=yes files and directories to lock) and
      write EXPECT: one
      line per entry scan must report, "PATH_B64<TAB>OUTCOME" with OUTCOME
      published, rejected:REASON or failed:REASON (scan --readable --hidden
      not given), after a line "#skip REASON" per thing it could not make
  tree.py lock ROOT / tree.py unlock ROOT
      give the permission entries their modes 000 (and 644 for the
      directory that can be listed but not searched), or the usual ones
  tree.py check EXPECT REJECTS SUMMARY ROOT
      scan's --rejects lines name every entry EXPECT does not call
      published, exactly once, with its outcome and reason, under the root
      ROOT (its realpath); its --json summary has EXPECT's counts
  tree.py files DIR
      what is below DIR but directories (base64 of the relative path, one a
      line, sorted), walking by directory fds (deeper than PATH_MAX is fine)
  tree.py published EXPECT
      the published paths of EXPECT, as tree.py files prints them
  tree.py ignore EXPECT
      the relative paths (text, one a line) of the regular files and
      directories that stay at ROOT without a message: for audit.sh --ignore
"""
import base64, json, os, resource, socket, stat, sys
from collections import Counter

DEEP = [b"d" * 255] * 15 + [b"e" * 60]      # a directory path of 3900 bytes


def die(msg):
    print(msg)
    sys.exit(1)


def b64(b):
    return base64.b64encode(b).decode()


class Tree:
    def __init__(self, root):
        self.root = os.fsencode(root)
        self.want = {}
        self.skips = []

    def expect(self, rel, outcome):
        if rel in self.want:
            die("two expectations for %r" % rel)
        self.want[rel] = outcome

    def file(self, rel, data=b"x\n", outcome="published", mode=0o644):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, mode)
        self.expect(rel, outcome)

    def link(self, rel, target):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.symlink(target, p)
        self.expect(rel, "rejected:symlink")


def build(root, canary, expect, nbig, locked):
    t = Tree(root)
    canary = os.fsencode(canary)
    os.makedirs(os.path.join(canary, b"inner"), exist_ok=True)
    with open(os.path.join(canary, b"secret.txt"), "wb") as f:
        f.write(b"outside the root\n")
    with open(os.path.join(canary, b"inner", b"deeper.txt"), "wb") as f:
        f.write(b"outside, deeper\n")
    os.makedirs(t.root, exist_ok=True)

    # Symlinks: loops, to the parent, to itself, out of the root; none is
    # followed, each is one rejected entry.
    t.file(b"plain.txt", b"plain\n")
    t.link(b"loop-a", b"loop-b")
    t.link(b"loop-b", b"loop-a")
    t.link(b"loop-self", b"loop-self")
    t.link(b"up", b"..")
    t.link(b"here", b".")
    t.file(b"d/f.txt", b"in d\n")
    t.link(b"d/back", b"../d")
    t.link(b"d/root", b"..")
    t.link(b"outside", canary)
    t.link(b"outside-rel", os.path.relpath(canary, t.root))
    t.link(b"outside-file", os.path.join(canary, b"secret.txt"))
    t.link(b"slash", b"/")
    t.link(b"dangling", b"no such thing")
    t.link(b"to-plain", b"plain.txt")

    # Special files: never opened, so a FIFO cannot block the scan.
    os.mkfifo(os.path.join(t.root, b"fifo"))
    t.expect(b"fifo", "rejected:not-regular")
    t.link(b"to-fifo", b"fifo")
    cwd = os.getcwd()
    os.chdir(t.root)                      # a socket's path must be short
    try:
        socket.socket(socket.AF_UNIX).bind("sock")
    finally:
        os.chdir(cwd)
    t.expect(b"sock", "rejected:not-regular")
    for name, kind, dev in ((b"null", stat.S_IFCHR, os.makedev(1, 3)),
                            (b"blockdev", stat.S_IFBLK, os.makedev(7, 250))):
        try:
            os.mknod(os.path.join(t.root, name), 0o600 | kind, dev)
            t.expect(name, "rejected:not-regular")
        except OSError as e:
            t.skips.append("cannot make the device node %s (%s)" % (name.decode(), e.strerror))

    # Hidden entries (no --hidden): a file, and a directory reported once.
    t.file(b".hidden", b"hidden\n", "rejected:hidden")
    os.makedirs(os.path.join(t.root, b".hdir"))
    with open(os.path.join(t.root, b".hdir", b"inside.txt"), "wb") as f:
        f.write(b"never seen\n")
    t.expect(b".hdir", "rejected:hidden")

    # Permissions (scan runs without CAP_DAC_*): an unreadable file
    # (--readable), an unreadable directory (reported once), a directory
    # that can be listed but not searched (each entry an io-error).
    # (Made with the usual modes; "tree.py lock" sets these.)
    if locked == "yes":
        t.file(b"locked.txt", b"locked\n", "rejected:unreadable")
        os.makedirs(os.path.join(t.root, b"lockeddir"))
        with open(os.path.join(t.root, b"lockeddir", b"inside.txt"), "wb") as f:
            f.write(b"never seen\n")
        t.expect(b"lockeddir", "failed:unreadable-dir")
        os.makedirs(os.path.join(t.root, b"noexec"))
        for n in (b"a.txt", b"b.txt"):
            with open(os.path.join(t.root, b"noexec", n), "wb") as f:
                f.write(n)
            t.expect(b"noexec/" + n, "failed:io-error")
    else:
        t.skips.append("running as root without a way to drop CAP_DAC_OVERRIDE: no mode 000 entries")

    # Names: the longest a name can be (255 bytes; 256 is refused by the
    # kernel, nothing to test), newlines, invalid UTF-8, escapes.
    t.file(b"n" * 255, b"long name\n")
    t.file(b"D" * 255 + b"/" + b"m" * 255, b"long names\n")
    try:
        os.close(os.open(os.path.join(t.root, b"x" * 256), os.O_CREAT | os.O_WRONLY, 0o644))
        die("the kernel took a 256-byte name")
    except OSError:
        pass
    for name in (b"new\nline.txt", b"\nstarts-with-newline", b"ends-with-newline\n",
                 b"\xff\xfe.bin", b"caf\xe9/inner\n\xe9.txt", b"tab\there", b" ",
                 b"-dash", b"back\\slash", b"\x1b[31mred\x1b[0m", b"q\"uote",
                 "\u00e9t\u00e9 \U0001F600.txt".encode(), b"\xed\xa0\x80surrogate",
                 b"\xc0\xafoverlong", b"a..b", b"dots...", b"*?[glob]"):
        t.file(name, b"name " + name + b"\n")

    # Relative paths: 4095 bytes is the longest one openat(2) takes; longer
    # ones fail path-too-long, a directory once (not walked).
    fd = os.open(t.root, os.O_RDONLY | os.O_DIRECTORY)
    for n in DEEP:
        os.mkdir(n, dir_fd=fd)
        nfd = os.open(n, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    deep = b"/".join(DEEP)

    def deepfile(name, dfd=fd):
        os.close(os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=dfd))

    deepfile(b"a" * 194)                                   # 4095 bytes
    t.expect(deep + b"/" + b"a" * 194, "published")
    deepfile(b"b" * 195)                                   # 4096 bytes
    t.expect(deep + b"/" + b"b" * 195, "failed:path-too-long")
    os.mkdir(b"c" * 195, dir_fd=fd)                        # a directory of 4096 bytes
    cfd = os.open(b"c" * 195, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    deepfile(b"never-seen", cfd)
    os.close(cfd)
    t.expect(deep + b"/" + b"c" * 195, "failed:path-too-long")
    os.mkdir(b"g" * 190, dir_fd=fd)                        # 4091, its file 4102
    gfd = os.open(b"g" * 190, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    deepfile(b"h" * 10, gfd)
    os.close(gfd)
    t.expect(deep + b"/" + b"g" * 190 + b"/" + b"h" * 10, "failed:path-too-long")
    os.close(fd)

    # 2047 directories deep, one byte a name: a path of 4095 bytes again,
    # and one open directory per level for a walker that keeps them open:
    # more than the usual limit of 1024 descriptors (the test runs scan
    # with that limit, as systemd starts services).
    fd = os.open(t.root, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(2047):
        os.mkdir(b"a", dir_fd=fd)
        nfd = os.open(b"a", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    deepfile(b"f", fd)
    os.close(fd)
    t.expect(b"a/" * 2047 + b"f", "published")

    # One directory of nbig entries: a tenth regular files, the rest
    # symlinks (out of the root, inside it, dangling, to themselves).
    big = os.path.join(t.root, b"big")
    os.mkdir(big)
    bfd = os.open(big, os.O_RDONLY | os.O_DIRECTORY)
    targets = [os.path.join(canary, b"secret.txt"), b"../outside/inner", b"f%07d" % 0,
               b"nowhere", None]
    for i in range(nbig):
        if i % 10 == 0:
            name = b"f%07d" % i
            wfd = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=bfd)
            os.write(wfd, b"%d\n" % i)
            os.close(wfd)
            t.want[b"big/" + name] = "published"
        else:
            name = b"l%07d" % i
            target = targets[i % len(targets)] or name
            os.symlink(target, name, dir_fd=bfd)
            t.want[b"big/" + name] = "rejected:symlink"
    os.close(bfd)

    with open(expect, "w") as f:
        for s in t.skips:
            f.write("#skip %s\n" % s)
        for rel, outcome in sorted(t.want.items()):
            f.write("%s\t%s\n" % (b64(rel), outcome))
    for s in t.skips:
        print("SKIP: " + s)


def load(expect):
    want = {}
    with open(expect) as f:
        for line in f:
            if line.startswith("#"):
                continue
            p, outcome = line.rstrip("\n").split("\t")
            want[base64.b64decode(p)] = outcome
    return want


def name_of(o, key):
    if key in o:
        return o[key].encode("utf-8", "surrogateescape")
    if key + "_b64" in o:
        return base64.b64decode(o[key + "_b64"])
    return None


def show(p):
    return repr(p) if len(p) <= 80 else "<%d-byte path ending %r>" % (len(p), p[-24:])


def check(expect, rejects, summary, root):
    want = load(expect)
    rootb = os.fsencode(os.path.realpath(root))
    problems = []
    seen = Counter()
    with open(rejects, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                o = json.loads(raw)
            except ValueError as e:
                die("--rejects line %d is not JSON (%s): %r" % (n, e, raw[:200]))
            r, p = name_of(o, "root"), name_of(o, "path")
            if r != rootb:
                problems.append("line %d: root %r, expected %r" % (n, r, rootb))
            got = "%s:%s" % (o.get("outcome"), o.get("reason"))
            if o.get("detail"):
                got += " (%s)" % o["detail"]
            seen[p] += 1
            w = want.get(p)
            if w is None:
                problems.append("%s: not in the tree as built (%s)%s" % (
                    show(p), got, ": a path through a symlink!"
                    if p and p.split(b"/")[0] in (b"outside", b"outside-rel", b"up", b"here")
                    else ""))
            elif w == "published":
                problems.append("%s: %s, expected published" % (show(p), got))
            elif w != got.split(" (")[0]:
                problems.append("%s: %s, expected %s" % (show(p), got, w))
    for p, n in seen.items():
        if n > 1:
            problems.append("%s: reported %d times" % (show(p), n))
    missing = [p for p, w in want.items() if w != "published" and p not in seen]
    for p in sorted(missing)[:10]:
        problems.append("%s: not reported (expected %s)" % (show(p), want[p]))
    if len(missing) > 10:
        problems.append("... and %d more not reported" % (len(missing) - 10))
    with open(summary) as f:
        s = json.loads(f.read())
    counts = Counter(w.split(":")[0] for w in want.values())
    rej = Counter(w.split(":")[1] for w in want.values() if w.startswith("rejected:"))
    fail = Counter(w.split(":")[1] for w in want.values() if w.startswith("failed:"))
    for k, v in (("files", len(want)), ("published", counts["published"]),
                 ("rejected", counts["rejected"]), ("failed", counts["failed"]),
                 ("rejected_by_reason", dict(rej)), ("failed_by_reason", dict(fail))):
        got = s.get(k)
        if isinstance(got, dict):
            got = {r: n for r, n in got.items() if n}
        if got != v:
            problems.append("summary %s is %s, expected %s" % (k, json.dumps(got), json.dumps(v)))
    if problems:
        die("; ".join(problems[:40]) + ("; ..." if len(problems) > 40 else ""))


def files(top):
    """Depth first with a stack of directory fds (os.fwalk recurses, and
    gives up 1000 levels down); paths longer than PATH_MAX are fine."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    out = []
    stack = [(os.open(os.fsencode(top), os.O_RDONLY | os.O_DIRECTORY), b"", None)]
    while stack:
        fd, rel, it = stack[-1]
        if it is None:
            it = iter(sorted(os.fsencode(n) for n in os.listdir(fd)))
            stack[-1] = (fd, rel, it)
        name = next(it, None)
        if name is None:
            os.close(fd)
            stack.pop()
            continue
        r = rel + b"/" + name if rel else name
        if stat.S_ISDIR(os.lstat(name, dir_fd=fd).st_mode):
            stack.append((os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                                  dir_fd=fd), r, None))
        else:
            out.append(b64(r))
    for line in sorted(out):
        print(line)


LOCKS = ((b"locked.txt", 0o000, 0o644), (b"lockeddir", 0o000, 0o755), (b"noexec", 0o644, 0o755))


def lock(root, on):
    for name, locked, usual in LOCKS:
        p = os.path.join(os.fsencode(root), name)
        if os.path.lexists(p):
            os.chmod(p, locked if on else usual)


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "build":
        build(a[0], a[1], a[2], int(a[3]), a[4])
    elif cmd == "check":
        check(a[0], a[1], a[2], a[3])
    elif cmd in ("lock", "unlock"):
        lock(a[0], cmd == "lock")
    elif cmd == "files":
        files(a[0])
    elif cmd == "published":
        for line in sorted(b64(p) for p, w in load(a[0]).items() if w == "published"):
            print(line)
    elif cmd == "ignore":
        for p, w in sorted(load(a[0]).items()):
            if w != "published" and w not in ("rejected:symlink", "rejected:not-regular"):
                print(os.fsdecode(p))
    else:
        die("unknown command " + cmd)


if __name__ == "__main__":
    main()
