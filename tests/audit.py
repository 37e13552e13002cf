"""audit.py - the end-of-scenario audit of the fault tests (Python 3 standard
library only); run through tests/audit.sh, which documents the interface:

  audit.py snapshot DIR > MANIFEST
  audit.py check --url URL --queue Q --root ROOT --dest DEST --manifest MANIFEST
                 [--outside DIR=MANIFEST]... [--ignore RELPATH]... [--quiet]

A manifest has one line per entry below DIR (directories too), sorted; the
first field is the Python repr of the relative path as bytes (os.fsencode),
then tab-separated:
  regular file:  file SHA256<TAB>size N<TAB>mode OCTAL<TAB>mtime NS
  symlink:       link REPR-OF-TARGET-BYTES
  directory:     dir<TAB>mode OCTAL
  anything else: type OCTAL<TAB>mode OCTAL     (S_IFMT bits: fifo 10000, ...)
"""
import ast
import base64
import hashlib
import json
import os
import stat
import sys
import time

sys.dont_write_bytecode = True          # no tests/__pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import amqp_tool  # noqa: E402
from amqp_tool import Closed  # noqa: E402

LIMIT = 20          # violations printed per kind, then a count
TEMP_PREFIX = b".scanmove-"


def usage(msg):
    sys.stderr.write("audit: %s\n" % msg)
    sys.stderr.write(
        "usage: audit.sh snapshot DIR > MANIFEST\n"
        "       audit.sh check --url URL --queue Q --root ROOT --dest DEST --manifest MANIFEST\n"
        "                      [--outside DIR=MANIFEST]... [--ignore RELPATH]... [--quiet]\n"
        "                      [--mtime-granularity NS]\n")
    sys.exit(2)


# A path this long is opened a few components at a time: the kernel takes at
# most PATH_MAX (4096) bytes in one call, and trees may be deeper than that.
LONG = 4000


def split_long(path):
    """(dir_fd, name) to reach path with *at calls: (None, path) for a
    short one; else an fd of its directory (the caller closes it), opened
    component by component past the first LONG bytes."""
    if len(path) < LONG:
        return None, path
    head, name = os.path.split(path)
    cut = head.rfind(b"/", 0, LONG)
    fd = os.open(head[:cut] or b"/", os.O_RDONLY | os.O_DIRECTORY)
    try:
        for comp in head[cut + 1:].split(b"/"):
            if comp:
                nfd = os.open(comp, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                os.close(fd)
                fd = nfd
    except OSError:
        os.close(fd)
        raise
    return fd, name


def open_long(path, flags):
    fd, name = split_long(path)
    try:
        return os.open(name, flags, dir_fd=fd)
    finally:
        if fd is not None:
            os.close(fd)


def readlink_long(path):
    fd, name = split_long(path)
    try:
        return os.readlink(name, dir_fd=fd)
    finally:
        if fd is not None:
            os.close(fd)


def walk(top):
    """(relative path bytes, lstat) of every entry below top, directories
    included; symlinks are not followed. A directory that cannot be read is
    an error (the audit would be blind there)."""
    top = os.fsencode(top)
    stack = [b""]
    while stack:
        rel = stack.pop()
        # By an fd: an entry's stat is then relative to it, however deep.
        fd = open_long(os.path.join(top, rel) if rel else top, os.O_RDONLY | os.O_DIRECTORY)
        try:
            with os.scandir(fd) as it:
                for e in it:
                    name = os.fsencode(e.name)
                    r = os.path.join(rel, name) if rel else name
                    st = e.stat(follow_symlinks=False)
                    yield r, st
                    if stat.S_ISDIR(st.st_mode):
                        stack.append(r)
        finally:
            os.close(fd)


def sha256(path):
    h = hashlib.sha256()
    with open(open_long(path, os.O_RDONLY), "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def describe(path, st):
    """The manifest fields (after the path) of one entry."""
    m = st.st_mode
    if stat.S_ISREG(m):
        return "file %s\tsize %d\tmode %o\tmtime %d" % (sha256(path), st.st_size,
                                                         stat.S_IMODE(m), st.st_mtime_ns)
    if stat.S_ISLNK(m):
        return "link %r" % readlink_long(path)
    if stat.S_ISDIR(m):
        return "dir\tmode %o" % stat.S_IMODE(m)
    return "type %o\tmode %o" % (stat.S_IFMT(m), stat.S_IMODE(m))


def snapshot_lines(top):
    topb = os.fsencode(top)
    return sorted("%r\t%s" % (rel, describe(os.path.join(topb, rel), st))
                  for rel, st in walk(topb))


def load_manifest(path):
    """{relative path bytes: the rest of its line}"""
    out = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            key, _, rest = line.partition("\t")
            try:
                rel = ast.literal_eval(key)
            except (ValueError, SyntaxError):
                rel = None
            if not isinstance(rel, bytes) or not rest:
                usage("%s:%d: not a manifest line: %.200s" % (path, n, line))
            out[rel] = rest
    return out


def kind_of(desc):
    return desc.split(" ", 1)[0].split("\t", 1)[0]      # file, link, dir, type


def type_name(st):
    m = st.st_mode
    for test, name in ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISLNK, "a symlink"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(m):
            return name
    return "of type %o" % stat.S_IFMT(m)


def differences(path, st, want, granularity=0):
    """How the regular file at path (lstat st) differs from the manifest's
    description want ("file SHA\tsize N\tmode M\tmtime T"); [] if it does not.
    With granularity (ns) > 0, an mtime truncated to it (a destination
    filesystem that stores coarser times) counts as the same. The bytes are
    hashed only when everything else matches."""
    if not stat.S_ISREG(st.st_mode):
        return ["it is %s" % type_name(st)]
    f = dict(x.split(" ", 1) for x in want.split("\t"))
    out = []
    if st.st_size != int(f["size"]):
        out.append("size %d, was %s" % (st.st_size, f["size"]))
    if stat.S_IMODE(st.st_mode) != int(f["mode"], 8):
        out.append("mode %o, was %s" % (stat.S_IMODE(st.st_mode), f["mode"]))
    t = int(f["mtime"])
    if st.st_mtime_ns != t and not (granularity > 0 and t - granularity < st.st_mtime_ns <= t):
        out.append("mtime %d, was %s" % (st.st_mtime_ns, f["mtime"]))
    if not out:
        try:
            h = sha256(path)
        except OSError as e:
            return ["cannot be read: %s" % e.strerror]
        if h != f["file"]:
            out.append("other bytes (sha256 %s, was %s)" % (h[:16], f["file"][:16]))
    return out


def name_field(o, key):
    """The bytes of a message's root/path (KEY or KEY_b64), or None."""
    v = o.get(key)
    if isinstance(v, str):
        return v.encode("utf-8", "surrogateescape")
    v = o.get(key + "_b64")
    if isinstance(v, str):
        try:
            return base64.b64decode(v, validate=True)
        except ValueError:
            return None
    return None


def dead_reason(props):
    h = props.get("headers") or {}
    r = h.get("x-scanmove-reason")
    if isinstance(r, str) and r:
        return r
    r = h.get("x-last-death-reason") or h.get("x-first-death-reason")
    if isinstance(r, str) and r:
        return r
    deaths = h.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        r = deaths[0].get("reason")
        if isinstance(r, str) and r:
            return r
    return "unknown"


class Report:
    KINDS = (("lost", "lost"), ("both", "at both places"), ("changed", "changed"),
             ("stray", "stray at DEST"), ("temp", "temporary"),
             ("extra", "extra at the source"), ("nomsg", "no message"),
             ("outside", "outside changed"), ("broker", "queues unreadable"))

    def __init__(self):
        self.v = {k: [] for k, _ in self.KINDS}

    def add(self, kind, text):
        self.v[kind].append(text)

    def n(self, kind):
        return len(self.v[kind])

    def print(self):
        for kind, label in self.KINDS:
            items = self.v[kind]
            for t in items[:LIMIT]:
                sys.stderr.write("audit: %s: %s\n" % (label, t))
            if len(items) > LIMIT:
                sys.stderr.write("audit: %s: ... and %d more\n" % (label, len(items) - LIMIT))

    def failed(self):
        return any(self.v.values())


def parse_check_args(argv):
    opts = {"outside": [], "ignore": [], "quiet": False, "mtime_granularity": 0}
    single = ("--url", "--queue", "--root", "--dest", "--manifest")
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--quiet":
            opts["quiet"] = True
            i += 1
            continue
        if a in single + ("--outside", "--ignore", "--mtime-granularity"):
            if i + 1 >= len(argv):
                usage("%s needs a value" % a)
            v = argv[i + 1]
            i += 2
        elif a.startswith("--") and "=" in a and a.split("=", 1)[0] in single + ("--ignore",):
            a, v = a.split("=", 1)
            i += 1
        else:
            usage("unknown argument %r" % a)
        if a == "--outside":
            d, sep, m = v.partition("=")
            if not sep or not d or not m:
                usage("--outside wants DIR=MANIFEST, not %r" % v)
            opts["outside"].append((d, m))
        elif a == "--mtime-granularity":
            if not v.isdigit():
                usage("--mtime-granularity wants nanoseconds, not %r" % v)
            opts["mtime_granularity"] = int(v)
        elif a == "--ignore":
            r = os.fsencode(v).strip(b"/")
            if not r or os.path.isabs(v):
                usage("--ignore wants a path relative to ROOT and DEST, not %r" % v)
            opts["ignore"].append(r)
        else:
            opts[a[2:]] = v
    for a in single:
        if not opts.get(a[2:]):
            usage("%s is required" % a)
    for a in ("root", "dest"):
        if not os.path.isdir(opts[a]):
            usage("--%s %s is not a directory" % (a, opts[a]))
    for _, m in opts["outside"] + [(None, opts["manifest"])]:
        if not os.path.isfile(m):
            usage("no manifest file %s" % m)
    return opts


def show(rel):
    return repr(rel)[1:]           # b'x' -> 'x'


def check(argv):
    o = parse_check_args(argv)
    rep = Report()
    ignores = o["ignore"]

    def ignored(rel):
        for ig in ignores:
            if rel == ig or rel.startswith(ig + b"/"):
                return True
        return False

    man = load_manifest(o["manifest"])
    files = {r: d for r, d in man.items() if kind_of(d) == "file" and not ignored(r)}
    root = os.fsencode(o["root"])
    dest = os.fsencode(o["dest"])
    try:
        at_root = {r: st for r, st in walk(root) if not ignored(r)}
        at_dest = {r: st for r, st in walk(dest) if not ignored(r)}
    except OSError as e:
        sys.stderr.write("audit: cannot read %s: %s\n" % (os.fsdecode(e.filename or b"?"),
                                                          e.strerror))
        sys.exit(1)

    # 1. every regular file of the manifest exactly once, unchanged.
    n_dest = 0
    at_source = []
    for rel in sorted(files):
        want = files[rel]
        r, d = at_root.get(rel), at_dest.get(rel)
        if r is not None and d is not None:
            rep.add("both", "%s is at ROOT (%s) and at DEST (%s)"
                    % (show(rel), type_name(r), type_name(d)))
        elif d is not None:
            diff = differences(os.path.join(dest, rel), d, want, o["mtime_granularity"])
            if diff:
                rep.add("changed", "DEST/%s: %s" % (show(rel), "; ".join(diff)))
            else:
                n_dest += 1
        elif r is not None:
            diff = differences(os.path.join(root, rel), r, want)
            if diff:
                rep.add("changed", "ROOT/%s: %s" % (show(rel), "; ".join(diff)))
            else:
                at_source.append(rel)
        else:
            rep.add("lost", "%s is neither at ROOT nor at DEST" % show(rel))

    # 3. nothing at DEST that is not a file of the manifest; 4. no temporaries.
    for rel in sorted(at_dest):
        st = at_dest[rel]
        if os.path.basename(rel).startswith(TEMP_PREFIX):
            rep.add("temp", "DEST/%s (%s)" % (show(rel), type_name(st)))
        elif rel in files or stat.S_ISDIR(st.st_mode):
            pass
        else:
            rep.add("stray", "DEST/%s (%s, %d bytes) is not a file of the manifest"
                    % (show(rel), type_name(st), st.st_size))
    # 4. nothing at ROOT that the manifest does not have, but directories.
    for rel in sorted(at_root):
        st = at_root[rel]
        if os.path.basename(rel).startswith(TEMP_PREFIX):
            rep.add("temp", "ROOT/%s (%s)" % (show(rel), type_name(st)))
        elif rel in files or stat.S_ISDIR(st.st_mode):
            pass
        elif rel not in man:
            rep.add("extra", "ROOT/%s (%s) is not in the manifest" % (show(rel), type_name(st)))
        else:
            now = describe(os.path.join(root, rel), st)
            if now != man[rel]:
                rep.add("extra", "ROOT/%s is now %s; the manifest has %s"
                        % (show(rel), now, man[rel]))
    for rel, desc in sorted(man.items()):
        k = kind_of(desc)
        if k not in ("file", "dir") and not ignored(rel) and rel not in at_root:
            rep.add("lost", "ROOT/%s (%s) is gone" % (show(rel), desc))

    # 2. a message for every file still at the source, in Q or in Q.dead.
    queued, dead = set(), {}
    if at_source:
        want = set(at_source)
        realroot = os.path.realpath(root)
        realpaths = {}

        def rel_of(body):
            # Bodies may be hostile (tests/faults/test_hostile_messages.sh):
            # nested too deep, lone surrogates, NUL bytes: those name no file.
            try:
                return rel_of_msg(json.loads(body))
            except (ValueError, RecursionError):
                return None

        def rel_of_msg(m):
            if not isinstance(m, dict):
                return None
            rb, pb = name_field(m, "root"), name_field(m, "path")
            if rb is None or pb is None:
                return None
            if rb not in realpaths:
                realpaths[rb] = os.path.realpath(rb)
            full = os.path.normpath(os.path.join(realpaths[rb], pb))
            if not full.startswith(realroot + b"/"):
                return None
            return full[len(realroot) + 1:]

        def read_queues(want):
            left = set(want)
            ch = amqp_tool.connect(o["url"])
            g = amqp_tool.peek(ch, o["queue"], 1 << 40)
            for _, body in g:
                r = rel_of(body)
                if r in left:
                    queued.add(r)
                    left.discard(r)
                    if not left:
                        break
            g.close()
            if left:
                for props, body in amqp_tool.peek(ch, o["queue"] + ".dead", 1 << 40):
                    r = rel_of(body)
                    if r in left and r not in dead:
                        dead[r] = dead_reason(props)
            ch.connection.close()

        try:
            read_queues(want)
            # Messages a mover that just exited (or was killed) held come back
            # to the queue a moment after its connection closed: once more,
            # a little later, for the files not found yet.
            missing = want - queued - set(dead)
            if missing:
                time.sleep(3)
                read_queues(missing)
        except (Closed, OSError) as e:
            rep.add("broker", "%s: %s" % (o["url"].split("@")[-1], e))
    n_queued = n_dead = 0
    reasons = {}
    for rel in at_source:
        if rel in queued:
            n_queued += 1
        elif rel in dead:
            n_dead += 1
            reasons[dead[rel]] = reasons.get(dead[rel], 0) + 1
        elif not rep.n("broker"):
            rep.add("nomsg", "ROOT/%s is at the source, but no message in %s or %s.dead names it"
                    % (show(rel), o["queue"], o["queue"]))

    # 5. the dirs outside the roots are as they were.
    for d, m in o["outside"]:
        was = load_manifest(m)
        try:
            now = {}
            for line in snapshot_lines(d):
                k, _, rest = line.partition("\t")
                now[ast.literal_eval(k)] = rest
        except OSError as e:
            rep.add("outside", "%s: cannot be read: %s" % (d, e))
            continue
        for rel in sorted(set(was) | set(now)):
            a, b = was.get(rel), now.get(rel)
            if a == b:
                continue
            if a is None:
                rep.add("outside", "%s/%s appeared: %s" % (d, show(rel), b))
            elif b is None:
                rep.add("outside", "%s/%s is gone: was %s" % (d, show(rel), a))
            else:
                rep.add("outside", "%s/%s is now %s; was %s" % (d, show(rel), b, a))

    rep.print()
    if not o["quiet"]:
        dl = "%d dead-lettered" % n_dead
        if reasons:
            dl += " (%s)" % ", ".join("%s: %d" % kv for kv in sorted(reasons.items()))
        if not o["outside"]:
            outside = "outside not checked"
        elif rep.n("outside"):
            outside = "outside changed (%d differences)" % rep.n("outside")
        else:
            outside = "outside unchanged"
        line = ("audit: %d files: %d at DEST, %d at the source with a message queued, %s; "
                "%d lost, %d at both places, %d strays, %d temporaries, %s"
                % (len(files), n_dest, n_queued, dl, rep.n("lost"), rep.n("both"),
                   rep.n("stray"), rep.n("temp"), outside))
        more = [("changed", "changed"), ("extra", "extra at the source"),
                ("nomsg", "at the source without a message"),
                ("broker", "errors reading the queues")]
        line += "".join(", %d %s" % (rep.n(k), t) for k, t in more if rep.n(k))
        print(line)
    sys.exit(1 if rep.failed() else 0)


def main():
    argv = sys.argv[1:]
    if not argv:
        usage("no command")
    if argv[0] == "snapshot":
        if len(argv) != 2:
            usage("snapshot takes one DIR")
        if not os.path.isdir(argv[1]):
            usage("%s is not a directory" % argv[1])
        out = sys.stdout
        for line in snapshot_lines(argv[1]):
            out.write(line + "\n")
    elif argv[0] == "check":
        check(argv[1:])
    else:
        usage("unknown command %r" % argv[0])


if __name__ == "__main__":
    main()
