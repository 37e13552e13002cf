#!/bin/sh
# bench/mkcorpus.sh - build a benchmark corpus of N real files.
#
# Usage: bench/mkcorpus.sh DIR N
#
# Copies N regular files, each under 256 KiB, from /usr/share, /usr/lib and
# /usr/include (text, C headers, Python source and byte code, gzip, PNG and
# SVG, ELF objects and libraries, gettext catalogues, terminfo, XML, JSON,
# HTML, ... whatever the system has) into DIR/d0000, DIR/d0001, ..., 1000
# files per subdirectory, named NNNNNNN-<original name> so that no name is
# hidden and none collides.
#
# The selection is deterministic for a given system: the candidate list is
# sorted bytewise and walked with a fixed stride coprime to its length, so
# every prefix of the corpus (N=20000 as well as N=200000) samples the whole
# tree rather than the alphabetically first directory; past the end of the
# list it cycles. Files are real, independent copies (no hard links or
# symlinks), because the mover benchmarks move and delete them.
#
# A finished corpus is recorded in DIR.done (beside DIR, not inside it, so
# that the scan sees only the corpus files); a run that finds DIR.done with
# the same N reuses DIR and does nothing. While building, DIR.building
# marks DIR as ours, so an interrupted build is removed and redone. A DIR
# that exists without either marker is never touched.
#
# Uses python3 when present (parallel, ~2 s per 10,000 files on ext4), else
# cp(1) once per file (much slower, same layout).
set -eu

PROG=mkcorpus.sh
SOURCES="/usr/share /usr/lib /usr/include"
MAX_SIZE=262144 # bytes; "under 256 KiB"
PER_DIR=1000
STRIDE=7919 # a prime; bumped until it is coprime to the list length

die() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    exit 1
}

[ $# -eq 2 ] || die "usage: $PROG DIR N"
dir=${1%/}
n=$2
case "$n" in '' | *[!0-9]*) die "N must be a positive number: '$n'" ;; esac
[ "$n" -gt 0 ] || die "N must be a positive number: '$n'"
[ -n "$dir" ] || die "DIR must not be empty or /"

done_marker="$dir.done"
building_marker="$dir.building"

if [ -d "$dir" ] && [ -f "$done_marker" ] && [ "$(cat "$done_marker")" = "$n" ]; then
    printf '%s: reusing %s (%s files)\n' "$PROG" "$dir" "$n" >&2
    exit 0
fi

if [ -e "$dir" ]; then
    if [ -f "$done_marker" ] || [ -f "$building_marker" ]; then
        printf '%s: removing the old corpus %s\n' "$PROG" "$dir" >&2
        rm -f "$done_marker"
        : >"$building_marker"
        rm -rf -- "$dir"
    elif [ -d "$dir" ] && [ -z "$(ls -A -- "$dir")" ]; then
        rmdir -- "$dir"
    else
        die "$dir exists and is not a corpus of $PROG (no $done_marker); remove it or choose another DIR"
    fi
fi

mkdir -p -- "$(dirname -- "$dir")"
: >"$building_marker"
mkdir -- "$dir"
start=$(date +%s.%N)

if command -v python3 >/dev/null 2>&1; then
    # shellcheck disable=SC2086 # SOURCES is a list of directories
    python3 - "$dir" "$n" "$MAX_SIZE" "$PER_DIR" "$STRIDE" $SOURCES <<'PY'
import os, stat, sys
from math import gcd
from multiprocessing import Pool

out = os.fsencode(sys.argv[1])
n, max_size, per_dir, stride = (int(a) for a in sys.argv[2:6])
sources = [os.fsencode(s) for s in sys.argv[6:]]

def candidates():
    files = []
    for top in sources:
        for root, dirs, names in os.walk(top):
            for name in names:
                p = os.path.join(root, name)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode) or st.st_size >= max_size:
                    continue
                if not os.access(p, os.R_OK):
                    continue
                files.append(p)
    files.sort()
    return files

files = candidates()
if not files:
    sys.exit("mkcorpus.sh: no candidate files under " + " ".join(sys.argv[6:]))
L = len(files)
while gcd(stride, L) != 1:
    stride += 1

def copy_dir(d):
    """Fill subdirectory number d; returns the number of files copied."""
    sub = os.path.join(out, b"d%04d" % d)
    os.mkdir(sub)
    lo, hi = d * per_dir, min(n, (d + 1) * per_dir)
    for i in range(lo, hi):
        src = files[(i * stride) % L]
        # Keep the name under NAME_MAX with the prefix added.
        dst = os.path.join(sub, b"%07d-%s" % (i, os.path.basename(src)[:200]))
        try:
            with open(src, "rb") as f, open(dst, "xb") as g:
                size = os.fstat(f.fileno()).st_size
                while size > 0:
                    c = os.copy_file_range(f.fileno(), g.fileno(), size)
                    if c == 0:
                        break
                    size -= c
        except OSError:
            # A file that changed or vanished since the listing, or a
            # filesystem without copy_file_range: copy it the plain way.
            with open(src, "rb") as f, open(dst, "wb") as g:
                g.write(f.read())
    return hi - lo

ndirs = (n + per_dir - 1) // per_dir
with Pool(os.cpu_count() or 2) as pool:
    total = sum(pool.imap_unordered(copy_dir, range(ndirs)))
assert total == n, (total, n)
print("mkcorpus.sh: %d candidate files, stride %d" % (L, stride), file=sys.stderr)
PY
else
    list=$(mktemp)
    trap 'rm -f "$list"' EXIT
    # shellcheck disable=SC2086
    find $SOURCES -type f -size "-${MAX_SIZE}c" -readable 2>/dev/null |
        LC_ALL=C sort >"$list"
    total=$(wc -l <"$list")
    [ "$total" -gt 0 ] || die "no candidate files under $SOURCES"
    stride=$STRIDE
    gcd() {
        a=$1 b=$2
        while [ "$b" -ne 0 ]; do
            t=$((a % b)) a=$b b=$t
        done
        echo "$a"
    }
    while [ "$(gcd "$stride" "$total")" -ne 1 ]; do stride=$((stride + 1)); done
    # Read the list into awk once, then emit "index<TAB>source" in stride
    # order; file names with a newline in them are not expected under /usr.
    awk -v n="$n" -v s="$stride" '{ f[NR - 1] = $0 }
        END { for (i = 0; i < n; i++) printf "%d\t%s\n", i, f[(i * s) % NR] }' "$list" |
        while IFS="$(printf '\t')" read -r i src; do
            sub=$(printf '%s/d%04d' "$dir" $((i / PER_DIR)))
            [ $((i % PER_DIR)) -ne 0 ] || mkdir -p -- "$sub"
            base=$(basename -- "$src" | cut -c1-200)
            cp -- "$src" "$(printf '%s/%07d-%s' "$sub" "$i" "$base")"
        done
    printf '%s: %s candidate files, stride %s\n' "$PROG" "$total" "$stride" >&2
fi

printf '%s\n' "$n" >"$done_marker"
rm -f "$building_marker"
end=$(date +%s.%N)
awk -v p="$PROG" -v d="$dir" -v n="$n" -v a="$start" -v b="$end" \
    'BEGIN { printf "%s: built %s with %d files in %.1f s\n", p, d, n, b - a }' >&2
