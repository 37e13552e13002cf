#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1, ATTRIBUTES): move
# --prune-empty-dirs removes the source directories its moves left empty,
# from the deepest up, and never the --from root (even an emptied one) nor
# a directory that still holds a file; then two movers pruning the same
# directories while a writer keeps creating files in them (mkdir -p and
# create, again when the directory went meanwhile): no file the writer
# created is lost, every queued file is moved once.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

prefix=prune

# dirs DIR : the directories below DIR, one relative path a line, sorted.
dirs() { (cd "$1" && find . -mindepth 1 -type d | sed 's|^\./||' | LC_ALL=C sort); }

# --- what is pruned, and what is not ----------------------------------------------------
topo basic
R=$WORK/basic/root
D=$WORK/basic/dest
mkdir -p "$R/a/b/c" "$R/a/g/h" "$R/keep/in" "$R/empty" "$D"
echo 1 >"$R/a/b/c/f1.txt"
echo 2 >"$R/a/b/f2.txt"
echo 3 >"$R/a/g/h/f3.txt"
echo 4 >"$R/keep/in/f4.txt"
echo 5 >"$R/top.txt"
"$PY3" "$PY" manifest "$R" >"$WORK/basic/before"
scanq "$R"
# After the scan: a file that is not queued keeps its directory.
echo later >"$R/keep/later.txt"
moveq --from "$R" --to "$D" --idle-exit 1s --json --prune-empty-dirs
expect_rc 0 "basic: move"
# a/b/c, a/b, a/g/h, a/g, a and keep/in; keep stays (later.txt), empty was
# never a moved file's directory.
pycheck "basic: --json summary" jcheck "$WORK/out" moved=5 pruned_dirs=6
expect_manifest "$WORK/basic/before" "$D" "basic: every file at DEST"
expect_eq "$(dirs "$R" | tr '\n' ' ')" "empty keep " "basic: the directories left at the source"
expect_files "$R" "basic: the file that arrived after the scan stays" "'keep/later.txt'"

# The root is never removed, even when the moves leave it empty.
topo root
R=$WORK/root/root
D=$WORK/root/dest
mkdir -p "$R/x/y" "$D"
echo 1 >"$R/x/y/f.txt"
echo 2 >"$R/g.txt"
scanq "$R"
moveq --from "$R" --to "$D" --idle-exit 1s --json --prune-empty-dirs
expect_rc 0 "root: move"
pycheck "root: --json summary" jcheck "$WORK/out" moved=2 pruned_dirs=2
checks=$((checks + 1))
[ -d "$R" ] || fail "root: the --from root was removed"
expect_eq "$(dirs "$R")" "" "root: only the root is left"
# Without the option nothing is pruned.
topo off
R=$WORK/off/root
D=$WORK/off/dest
mkdir -p "$R/x/y" "$D"
echo 1 >"$R/x/y/f.txt"
scanq "$R"
moveq --from "$R" --to "$D" --idle-exit 1s --json
expect_rc 0 "off: move"
pycheck "off: --json summary" jcheck "$WORK/out" moved=1 pruned_dirs=0
expect_eq "$(dirs "$R" | tr '\n' ' ')" "x x/y " "off: the directories stay"

# --- a writer creating files in the directories being pruned ---------------------------
topo race
R=$WORK/race/root
D=$WORK/race/dest
mkdir -p "$D"
# 40 directories the writer uses (see writer.py), 20 it leaves alone, three levels deep,
# three files each.
for i in $(seq -w 0 59); do
    mkdir -p "$R/d$i/a/b"
    for f in 1 2; do echo "$i $f" >"$R/d$i/a/b/f$f.txt"; done
    echo "$i" >"$R/d$i/f0.txt"
done
"$PY3" "$PY" manifest "$R" >"$WORK/race/before"
scanq "$R"
cat >"$WORK/writer.py" <<'PYEOF'
# Until stop exists, create files below root, making their directories as
# mkdir -p does; a directory removed between the mkdir and the create
# makes the create fail with ENOENT: make it again and retry. Each created
# file's path goes to log once it exists. d00..d19/a/b are watched: the
# moment one is found empty (its files moved, about to be pruned) a file
# is created in it; d20..d39 get files at random places every 3 ms.
import os, random, sys, time
root, log, stop = sys.argv[1:4]
rnd = random.Random(14)
watched = ["d%02d/a/b" % i for i in range(20)]
n = retries = 0
def create(out, d):
    global n, retries
    name = "%s/w%05d.txt" % (d, n) if d else "w%05d.txt" % n
    while True:
        try:
            os.makedirs(os.path.join(root, d), exist_ok=True)
            fd = os.open(os.path.join(root, name), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except (FileNotFoundError, FileExistsError):  # makedirs saw it go too
            retries += 1
    os.write(fd, b"w")
    os.close(fd)
    out.write(name + "\n")
    out.flush()
    n += 1
with open(log, "w") as out:
    last = 0.0
    while not os.path.exists(stop):
        for d in list(watched):
            try:
                empty = not os.listdir(os.path.join(root, d))
            except FileNotFoundError:
                empty = True
            if empty:
                watched.remove(d)
                create(out, d)
        if time.monotonic() - last > 0.003:
            last = time.monotonic()
            create(out, "d%02d%s" % (20 + rnd.randrange(20), rnd.choice(["", "/a", "/a/b"])))
        time.sleep(0.0002)
print(n, retries)
PYEOF
"$PY3" "$WORK/writer.py" "$R" "$WORK/race/written" "$WORK/race/stop" >"$WORK/race/writer" &
writer=$!
bg_pids+=("$writer")
movers=()
for i in 1 2; do
    (
        set +e
        env AMQP_URL="$url" timeout 120 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" \
            --to "$D" --idle-exit 2s --json --prune-empty-dirs >"$WORK/race.out$i" \
            2>"$WORK/race.err$i"
        echo $? >"$WORK/race.rc$i"
    ) &
    movers+=($!)
done
wait "${movers[@]}"
touch "$WORK/race/stop"
wait "$writer" || fail "race: the writer failed"
for i in 1 2; do
    cp "$WORK/race.err$i" "$WORK/err"
    rc=$(cat "$WORK/race.rc$i")
    expect_rc 0 "race: mover $i"
done
moved=$(jsum moved "$WORK/race.out1" "$WORK/race.out2")
pruned=$(jsum pruned_dirs "$WORK/race.out1" "$WORK/race.out2")
expect_eq "$moved" 180 "race: the movers moved the 180 queued files between them"
expect_manifest "$WORK/race/before" "$D" "race: every queued file once at DEST"
read -r written retried <"$WORK/race/writer"
echo "race: the writer created $written files (again after ENOENT: $retried times); $pruned directories pruned" >&2
sed 's/.*/'"'"'&'"'"'/' "$WORK/race/written" | LC_ALL=C sort >"$WORK/want"
"$PY3" "$PY" files "$R" | sed -E "s/^b'(.*)'\$/'\\1'/" | LC_ALL=C sort >"$WORK/got"
checks=$((checks + 1))
cmp -s "$WORK/want" "$WORK/got" ||
    fail "race: the source holds other files than the writer's: $(diff "$WORK/want" "$WORK/got" | head -8 | tr '\n' ' ')"
# The writer never touched d40..d59: all of them pruned, 3 levels each.
expect_eq "$(dirs "$R" | grep -Ec '^d(4[0-9]|5[0-9])(/|$)')" 0 \
    "race: the directories the writer left alone are gone"
checks=$((checks + 1))
[ "$pruned" -ge 60 ] || fail "race: $pruned directories pruned, expected 60 or more"
checks=$((checks + 1))
[ -d "$R" ] || fail "race: the --from root was removed"

finish
