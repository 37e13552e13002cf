#!/usr/bin/env python3
"""structure.py - hold the sources to the house limits: no file in common/,
scanner/ or mover/ over 600 lines, no function there over 100 lines.

A function is counted from the line of its name to its closing brace; the
house style (.clang-format) puts a function's braces in column 0, which is
what this relies on. Prints each breach and exits 1, or exits 0 quietly.
"""
import glob
import os
import re
import sys

MAX_FILE, MAX_FUNC = 600, 100
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
files = sorted(f for d in ("common", "scanner", "mover")
               for f in glob.glob(os.path.join(root, d, "*.[ch]")))
bad = []
for path in files:
    name = os.path.relpath(path, root)
    lines = open(path, encoding="utf-8").read().split("\n")
    if len(lines) - 1 > MAX_FILE:
        bad.append(f"{name}: {len(lines) - 1} lines (at most {MAX_FILE})")
    start = None
    for i, line in enumerate(lines):
        if line == "{":
            j = i - 1
            while j > 0 and "(" not in lines[j]:
                j -= 1
            m = re.search(r"(\w+)\s*\(", lines[j])
            start = (j, m.group(1) if m else "?")
        elif start and line.startswith("}") and not line.startswith("};"):
            n = i - start[0] + 1
            if n > MAX_FUNC:
                bad.append(f"{name}:{start[0] + 1}: {start[1]} is {n} lines (at most {MAX_FUNC})")
            start = None
for b in bad:
    print(b)
if not files:
    print("structure.py: no sources found")
    sys.exit(1)
sys.exit(1 if bad else 0)
