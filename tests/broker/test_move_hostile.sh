#!/usr/bin/env bash
# Against the private broker (contract: docs/move.1 and docs/message-format.md):
# hostile messages are dead-lettered to <queue>.dead with the reason in
# x-scanmove-reason, each logged with its id; nothing outside the roots changes.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/move_lib.sh"

# --- hostile messages: dead-lettered with their reason; nothing outside changes ----------
topo hostile
H=$WORK/hostile
R=$H/root
D=$H/dest
C=$WORK/canary
B=$H/bodies
mkdir -p "$R/sub" "$D" "$B" "$C/secret" "$C/other" "$H/rootx"
echo "root:x:0:0" >"$C/passwd"
echo "key" >"$C/secret/id_rsa"
echo "other root's file" >"$C/other/file.txt"
echo "sibling" >"$H/rootx/file.txt"
echo "in a subdirectory" >"$R/sub/in.txt"
ln -s "$C" "$R/link"
ln -s "$C/passwd" "$R/lnfile"
mkfifo "$R/fifo"
echo good >"$R/good.txt"
"$PY3" "$PY" manifest "$WORK/canary" >"$WORK/canary.before"
"$PY3" "$PY" manifest "$H/rootx" >"$WORK/rootx.before"
: >"$WORK/expect"
# hostile NAME REASON BODY-MAKER... : a crafted body, expected dead-lettered as REASON.
hostile() {
    local name=$1 reason=$2
    shift 2
    "$@" >"$B/$name" || fail "hostile: cannot make the $name body"
    printf '%s\t@%s\n' "$reason" "$B/$name" >>"$WORK/expect"
}
crafted() { # crafted ROOT PATH STATFILE OVERRIDES... > body
    "$PY3" "$PY" msg - "$@"
}
hostile badjson malformed-json printf '{"v":1,"id":'
hostile notobject not-object printf '[1,2,3]'
hostile version unknown-version crafted "$R" good.txt "$R/good.txt" v=2
hostile dotdot dotdot crafted "$R" ../../canary/passwd "$C/passwd"
hostile dotdot2 dotdot crafted "$R" sub/../../../canary/passwd "$C/passwd"
hostile absolute absolute-path crafted "$R" "$C/passwd" "$C/passwd"
hostile nul nul-byte crafted "$R" good.txt "$R/good.txt" 'path="good\u0000.txt"'
hostile relroot relative-root crafted "$R" good.txt "$R/good.txt" 'root="relative/root"'
hostile missing missing-field crafted "$R" good.txt "$R/good.txt" size=-
hostile wrongtype wrong-type crafted "$R" good.txt "$R/good.txt" size=4
hostile badid bad-value crafted "$R" good.txt "$R/good.txt" 'id="XYZ"'
hostile duproot duplicate-field crafted "$R" good.txt "$R/good.txt" 'root_b64="L3RtcA=="'
hostile emptypath empty-path crafted "$R" good.txt "$R/good.txt" 'path=""'
# shellcheck disable=SC2046 # 2100 words on purpose
long=$(printf 'a/%.0s' $(seq 2100))f
hostile longpath path-too-long crafted "$R" "$long" -
hostile oversized oversized crafted "$R" good.txt "$R/good.txt" \
    "pad=\"$(head -c 70000 /dev/zero | tr '\0' x)\""
hostile otherroot root-not-allowed crafted "$C/other" file.txt "$C/other/file.txt"
hostile prefixroot root-not-allowed crafted "$H/rootx" file.txt "$H/rootx/file.txt"
hostile subroot root-not-allowed crafted "$R/sub" in.txt "$R/sub/in.txt"
hostile symlinkdir symlink crafted "$R" link/passwd "$C/passwd"
hostile symlinkdir2 symlink crafted "$R" link/secret/id_rsa "$C/secret/id_rsa"
hostile symlinkfile symlink crafted "$R" lnfile "$C/passwd"
hostile fifo not-regular crafted "$R" fifo "$R/fifo"
hostile directory not-regular crafted "$R" sub "$R/sub"
nhostile=$(wc -l <"$WORK/expect")
# shellcheck disable=SC2046 # the body files, one word each
publish $(cut -f2 "$WORK/expect" | sed 's/^@//')
# A good file after them shows the mover kept going.
scanq "$R"
expect_eq "$(count)" "$((nhostile + 2))" "hostile: crafted messages and the good ones queued"
moveq --from "$R" --to "$D" --idle-exit 1s --json
expect_rc 1 "hostile: the mover survives and exits 1 at idle (it dead-lettered)"
pycheck "hostile: --json summary" jcheck "$WORK/out" moved=2 dead_lettered="$nhostile" \
    duplicates=0 skipped=0 \
    "dead_by_reason=$(cut -f1 "$WORK/expect" | sort | uniq -c |
        awk 'BEGIN{printf "{"} {printf "%s\"%s\":%d", (NR>1?",":""), $2, $1} END{printf "}"}')"
expect_summary 2 0 0 "$nhostile" 0 "hostile"
expect_eq "$(grep -Ec '^move: error: dead-lettered .+ \(id [^ ]+, [a-z-]+\): .+$' "$WORK/err")" \
    "$nhostile" "hostile: one stderr line per dead-lettered message"
expect_re err '^move: error: dead-lettered a message \(id -, malformed-json\): .+$' \
    "hostile: a body that cannot be read is logged as 'a message', without an id as '-'"
for n in otherroot:$C/other/file.txt symlinkdir:$R/link/passwd fifo:$R/fifo; do
    file=${n#*:}
    n=${n%%:*}
    id=$("$PY3" -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$B/$n")
    r=$(awk -F '\t' -v w="@$B/$n" '$2 == w { print $1 }' "$WORK/expect")
    expect_in err "move: error: dead-lettered $file (id $id, $r): " "hostile: $n logged with its file and id"
done
# The roots this mover does not serve: each said once, with the way out.
for root in "$C/other" "$H/rootx" "$R/sub"; do
    expect_in err "move: error: queue '$q' holds files of '$root', which is not a --from root of this mover" \
        "hostile: the foreign root $root said"
done
expect_eq "$(grep -c "^move: error: queue '$q' holds files of " "$WORK/err")" 3 \
    "hostile: each foreign root said once"
expect_eq "$(dead "$WORK/dead")" "$nhostile" "hostile: every crafted message in $q.dead"
pycheck "hostile: dead letters with their reasons" checkdead "$WORK/dead" "$WORK/expect" "$ex.dlx" "$q"
expect_manifest "$WORK/canary.before" "$WORK/canary" "hostile: nothing outside the root changed"
expect_manifest "$WORK/rootx.before" "$H/rootx" "hostile: the sibling root is untouched"
expect_files "$D" "hostile: only the good files reach DEST" "'good.txt'" "'sub/in.txt'"
expect_files "$R" "hostile: links and the fifo stay" "'fifo'" "'link'" "'lnfile'"
expect_eq "$(readlink "$R/link")" "$C" "hostile: ROOT/link still points where it did"
expect_eq "$(count)" 0 "hostile: the queue is empty"

finish
