"""marks_check.py - the kill-storm audit of scan's in-flight marks.

  marks_check.py count ROOT
      Prints how many files below ROOT carry a mark.
  marks_check.py ROOT PEEKED
      PEEKED: the queue's messages, as tests/amqp_tool.py peek writes them.
      Checks that every file below ROOT carrying a mark user.scanmove.queued
      names a message in the queue (no mark without a confirmed message),
      and that every file has at least one message naming it (nothing
      lost). Prints "FILES MESSAGES MARKED DUPLICATES"; exits 1 with the
      first problems on stderr."""
import collections
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import msgid  # noqa: E402

if sys.argv[1] == "count":
    n = 0
    for d, _, names in os.walk(sys.argv[2]):
        for name in names:
            try:
                os.getxattr(os.path.join(d, name), "user.scanmove.queued", follow_symlinks=False)
                n += 1
            except OSError:
                pass
    print(n)
    sys.exit(0)

root, peeked = sys.argv[1], sys.argv[2]
real = os.path.realpath(root).encode()
ids = collections.Counter()
for line in open(peeked, encoding="utf-8"):
    m = json.loads(line)
    ids[m.get("message_id", "")] += 1

problems = []
files = marked = 0
for d, _, names in os.walk(root):
    for n in names:
        p = os.path.join(d, n)
        st = os.lstat(p)
        rel = os.path.relpath(p, root).encode()
        fid = msgid.file_id(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, real, rel)
        files += 1
        if ids[fid] == 0:
            problems.append("no message for %s" % rel)
        try:
            mark = os.getxattr(p, "user.scanmove.queued", follow_symlinks=False).decode()
        except OSError:
            continue
        marked += 1
        if ids[mark.split(",")[0]] == 0:
            problems.append("%s is marked %s, and no such message is queued" % (rel, mark))
for p in problems[:10]:
    print(p, file=sys.stderr)
print(files, sum(ids.values()), marked, sum(ids.values()) - len(ids))
sys.exit(1 if problems else 0)
