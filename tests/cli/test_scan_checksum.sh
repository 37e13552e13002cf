#!/usr/bin/env bash
# scan --checksum without a broker (--dry-run, checked by tests/scan_check.py):
# the hash of every file's content in its message (sha256 against python's
# hashlib, xxh128 against xxhsum -H2 when the xxhash package is there), the
# algorithm in the --json summary, a usage error for an unknown one, and a
# file written while it is read fails vanished.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/cli/scan_lib.sh"

run "$SCAN" --help
expect_rc 0 "scan --help"
expect_in out "--checksum[=ALG]" "scan --help lists --checksum"

t=$WORK/t
r=$(realpath -m "$t")
mk "$t/a.txt" "$t/sub/b.txt"
: >"$t/empty"
head -c 3000000 /dev/urandom >"$t/sub/big.bin"
printf abc >"$t/abc"

# hashes KEY: the hash of each message of the last dry run, by path.
hashes() { "$PY3" -c '
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if "v" in m:
        print(m["path"], m.get("hash", "-"))' "$WORK/out" | sort; }

dry --checksum "$t"
expect_rc 0 "--checksum"
outcomes "--checksum" "$r" a.txt published sub/b.txt published empty published \
    sub/big.bin published abc published
expect_eq "$(hashes | grep -c ' xxh128:[0-9a-f]\{32\}$')" 5 "xxh128 is the default"
expect_eq "$(hashes | grep '^abc ')" "abc xxh128:06b05ab6733a618578af5f94892f3950" \
    "xxh128 of abc, as xxhsum -H2 prints it"
expect_eq "$(hashes | grep '^empty ')" "empty xxh128:99aa06d3014798d86001c324468d497f" \
    "xxh128 of nothing"
expect_eq "$("$PY3" "$PY" get "$WORK/out" checksum)" '"xxh128"' "the summary names the algorithm"
command -v xxhsum >/dev/null || echo "NOTE: no xxhsum here: xxh128 hashes checked for their form only" >&2

dry --checksum=sha256 --no-mime -j 1 "$t"
expect_rc 0 "--checksum=sha256"
expect_eq "$(hashes | grep -c ' sha256:[0-9a-f]\{64\}$')" 5 "sha256 for every file"
expect_eq "$(hashes | grep '^abc ')" \
    "abc sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" "sha256 of abc"
expect_eq "$("$PY3" "$PY" get "$WORK/out" checksum)" '"sha256"' "summary checksum sha256"

dry --checksum --mime 'text/*' "$t"
outcomes "--checksum with --mime: rejected files are not hashed" "$r" a.txt published \
    sub/b.txt published empty rejected:mime-not-allowed sub/big.bin rejected:mime-not-allowed \
    abc published

dry "$t"
expect_eq "$(hashes | grep -vc ' -$' || true)" 0 "without --checksum, no hash"
expect_eq "$("$PY3" "$PY" get "$WORK/out" checksum)" null "without --checksum, no checksum key"

run "$SCAN" --dry-run --checksum=md5 "$t"
expect_rc 64 "--checksum=md5"
expect_in err "--checksum: unknown algorithm 'md5' (xxh128 or sha256)" "unknown algorithm"
run "$SCAN" --dry-run --checksum= "$t"
expect_rc 64 "--checksum="

# A file whose mtime keeps changing while it is read (its size kept) was
# hashed half old, half new: it fails vanished, and no message carries it.
w=$WORK/w
mkdir -p "$w"
head -c 50000000 /dev/zero >"$w/busy"
"$PY3" -c '
import os, sys
p, ready = sys.argv[1], sys.argv[2]
open(ready, "w").close()
t = 1500000000 * 10**9
while os.path.exists(ready):
    t += 1
    os.utime(p, ns=(t, t))' "$w/busy" "$WORK/ready" &
toucher=$!
while [ ! -e "$WORK/ready" ]; do sleep 0.05; done
sleep 0.2
run "$SCAN" --dry-run --json --no-mime --checksum=sha256 --rejects "$WORK/rej" "$w"
rm -f "$WORK/ready"
wait "$toucher" || true
expect_rc 1 "a file written while it is read"
outcomes "a file written while it is read fails" "$(realpath "$w")" busy failed:vanished
checks=$((checks + 1))
grep -q 'changed while it was read' "$WORK/rej" ||
    fail "the reject line says why: $(head -c 300 "$WORK/rej")"

finish
