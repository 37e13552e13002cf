#!/usr/bin/env bash
# Against the private broker: a mover whose user may not publish to the
# dead-letter exchange (<exchange>.dlx) refuses to start: exit 77 at once,
# one sentence naming the exchange, before it takes a single message. Left
# to find out on its first dead letter, it moved the healthy files, took
# the refusal for a lost connection, reconnected again and again, gave
# every delivery back each time (the moved files' pending acknowledgements
# with them) until the broker's delivery limit dead-lettered healthy
# messages, and exited 0.
#   1. six files scanned, one of them then grown (its message will be
#      dead-lettered "changed"); move as a user with write access to
#      everything but <exchange>.dlx: exit 77 within 20 s; the queue still
#      holds the six messages, <queue>.dead none, the files are untouched;
#   2. the same user once allowed to publish there: five files moved, the
#      grown one dead-lettered, exit 0; <queue>.dead holds exactly that
#      dead letter (the mover's check of the exchange left nothing there).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/lib.sh"
unset SCANMOVE_JOBS
PY=$TESTS_DIR/move_util.py
umask 022

port=${url##*:}
port=${port%%/*}
q=dlx-refused-$tag
ex=dlx-refused-ex-$tag
declared=("$q")
user=dlx-refused-$tag
pw=Pw$tag
uurl="amqp://$user:$pw@127.0.0.1:$port/%2F"
extra_cleanup='ctl delete_user "$user" >/dev/null 2>&1'
dlx_re=$(printf '%s' "$ex.dlx" | sed 's/[.]/\\./g')

ctl add_user "$user" "$pw" >/dev/null || fail "rabbitmqctl add_user"
ctl set_permissions -p / "$user" '.*' "^(?!$dlx_re\$).*" '.*' >/dev/null ||
    fail "rabbitmqctl set_permissions"

R=$WORK/root
D=$WORK/dest
mkdir -p "$R" "$D"
for i in 1 2 3 4 5 6; do
    echo "file $i" >"$R/f$i.txt"
done
touch -d '2 hours ago' "$R"/f*.txt
run env AMQP_URL="$url" "$SCAN" --queue "$q" --exchange "$ex" --no-mime -q "$R"
expect_rc 0 "scan of six files"
expect_eq "$(count "$q")" 6 "six messages queued"
echo grown >>"$R/f4.txt"

# --- 1. refused: exit 77 before taking a message ----------------------------------------
t0=$(date +%s)
run env AMQP_URL="$uurl" timeout 60 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" \
    --idle-exit 3s
el=$(($(date +%s) - t0))
expect_rc 77 "refused dead-letter exchange"
checks=$((checks + 1))
[ "$el" -le 20 ] || fail "refused dead-letter exchange: exited after $el s, not at once"
expect_re err "^move: error: may not publish to the dead-letter exchange '$dlx_re': access refused by amqp://$user@127\.0\.0\.1:$port/: ACCESS_REFUSED - .*exchange '$dlx_re'.*$" \
    "refused: one sentence naming the exchange and quoting the broker"
expect_not_in err "reconnect" "refused: not taken for a lost connection"
expect_not_in err "trying again" "refused: not retried"
expect_not_in err "$pw" "refused: no password"
expect_eq "$(grep -cv '^move: notice: [0-9]* moved, ' "$WORK/err")" 1 "refused: one line besides the summary"
expect_eq "$(count "$q")" 6 "refused: the six messages are still queued"
expect_eq "$(count "$q.dead")" 0 "refused: nothing dead-lettered"
expect_eq "$(nfiles "$R")/$(nfiles "$D")" 6/0 "refused: no file moved"

echo "1. exit $rc after $el s: $(grep -v '^move: notice: [0-9]* moved, ' "$WORK/err" | head -1)"
# --- 2. allowed: the grown file dead-lettered, the rest moved ---------------------------
ctl set_permissions -p / "$user" '.*' '.*' '.*' >/dev/null || fail "rabbitmqctl set_permissions"
run env AMQP_URL="$uurl" timeout 60 "$MOVE" --queue "$q" --exchange "$ex" --from "$R" --to "$D" \
    --idle-exit 3s --json
expect_rc 1 "allowed dead-letter exchange (1: one was dead-lettered)"
pycheck "allowed: --json summary" jcheck "$WORK/out" moved=5 dead_lettered=1 duplicates=0 \
    requeued=0 skipped=0
expect_in err "dead-lettered" "allowed: the grown file dead-lettered"
expect_eq "$(count "$q")" 0 "allowed: the queue is empty"
expect_eq "$(count "$q.dead")" 1 "allowed: one dead letter, no trace of the check"
expect_eq "$(nfiles "$R")/$(nfiles "$D")" 1/5 "allowed: five files moved, the grown one left"

finish
