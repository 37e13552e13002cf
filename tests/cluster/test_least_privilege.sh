#!/usr/bin/env bash
# Least privilege, against the private broker (docs/deploy.md, "Broker users
# and permissions"): for a pipeline of exchange EX and queue Q,
#   scan needs  configure ^(EX|EX\.dlx|Q|Q\.dead)$  write the same
#               read ^(EX|EX\.dlx|Q)$
#   move needs  configure, write and read ^(EX|EX\.dlx|Q|Q\.dead)$
# (regexes of the names, quoted). The test
#   1. runs the whole job with users scan-user and move-user holding just
#      those: scan publishes a tree, move moves it, dead-letters a file that
#      vanished, lists it (--dead), puts it back (--requeue-dead) once the
#      file is back, and moves it; both --check; then the audit. Once with
#      scan creating the topology, once with move creating it;
#   2. takes one resource out of one of the three regexes (each resource of
#      each, in turn, and then the whole permission, '^$'), for each tool,
#      on a new topology each time: the tool exits 77 and its stderr has a
#      line "scan: ..." / "move: ..." with the broker's sentence naming the
#      resource and the user ("access to queue 'Q.dead' in vhost '/' refused
#      for user 'move-user'").
# Passwords reach the tools in AMQP_URL, never in argv.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/broker/lib.sh"
unset SCANMOVE_JOBS
umask 022
AUDIT=$TESTS_DIR/audit.sh
prefix=lp
hostport=${url#*@}
hostport=${hostport%%/*}
spw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
mpw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
surl="amqp://scan-user:$spw@$hostport/%2F"
murl="amqp://move-user:$mpw@$hostport/%2F"

# users_gone : delete scan-user and move-user (no error when missing).
users_gone() {
    ctl delete_user scan-user >/dev/null 2>&1 || true
    ctl delete_user move-user >/dev/null 2>&1 || true
}
on_exit+=(users_gone)
users_gone
ctl add_user scan-user "$spw" >/dev/null || fail "add_user scan-user"
ctl add_user move-user "$mpw" >/dev/null || fail "add_user move-user"

# alt NAME... : a regex matching exactly these names.
alt() {
    local out='' n
    for n in "$@"; do
        out+="|$(printf '%s' "$n" | sed 's/[].[^$*+?(){}|\\]/\\&/g')"
    done
    printf '^(%s)$' "${out#|}"
}

# grant USER CONFIGURE WRITE READ : set USER's permissions on vhost /.
grant() { ctl set_permissions -p / "$1" "$2" "$3" "$4" >/dev/null || fail "set_permissions $*"; }

# The documented permissions for $ex and $q, in $s_conf $s_write $s_read
# (scan) and $m_conf $m_write $m_read (move).
documented() {
    s_conf=$(alt "$ex" "$ex.dlx" "$q" "$q.dead")
    s_write=$s_conf
    s_read=$(alt "$ex" "$ex.dlx" "$q")
    m_conf=$s_conf
    m_write=$s_conf
    m_read=$s_conf
}

# as_scan ARGS... / as_move ARGS... : run a tool as scan-user / move-user.
as_scan() { run env AMQP_URL="$surl" timeout 120 "$SCAN" --queue "$q" --exchange "$ex" "$@"; }
as_move() { run env AMQP_URL="$murl" timeout 120 "$MOVE" --queue "$q" --exchange "$ex" "$@"; }

# tree DIR N : N small files below DIR.
tree() {
    local i
    mkdir -p "$1/sub"
    for i in $(seq "$2"); do
        printf 'file %s of %s\n' "$i" "$1" >"$1/sub/f$i.txt"
    done
}

# --- 1. the whole job with the documented permissions --------------------------------
# job NAME FIRST : FIRST (scan or move) creates the topology of part NAME.
job() {
    local name=$1 R=$WORK/$1/root D=$WORK/$1/dest
    topo_names "$name"
    documented
    grant scan-user "$s_conf" "$s_write" "$s_read"
    grant move-user "$m_conf" "$m_write" "$m_read"
    mkdir -p "$R" "$D"
    if [ "$2" = move ]; then
        as_move --from "$R" --to "$D" --idle-exit 1s
        expect_rc 0 "$name: move-user creates the topology"
    fi
    tree "$R" 20
    "$AUDIT" snapshot "$R" >"$WORK/$name.manifest"
    as_scan --no-mime "$R"
    expect_rc 0 "$name: scan-user publishes"
    expect_in err "20 published" "$name: scan-user publishes 20"
    as_scan --check
    expect_rc 0 "$name: scan-user --check"
    mv "$R/sub/f7.txt" "$WORK/$name/f7.away"
    as_move --from "$R" --to "$D" --idle-exit 1s
    expect_rc 1 "$name: move-user moves, one file vanished"
    expect_in err "19 moved, 0 skipped, 0 duplicates, 1 dead-lettered" "$name: one dead letter"
    as_move --dead
    expect_rc 0 "$name: move-user --dead"
    expect_lines out 1 "$name: move-user --dead lists the dead letter"
    mv "$WORK/$name/f7.away" "$R/sub/f7.txt"
    as_move --requeue-dead --from "$R" --to "$D"
    expect_rc 0 "$name: move-user --requeue-dead"
    expect_in err "requeued 1 dead letters" "$name: the dead letter goes back"
    as_move --from "$R" --to "$D" --idle-exit 1s
    expect_rc 0 "$name: move-user moves the requeued file"
    expect_in err "1 moved" "$name: the requeued file moves"
    as_move --check
    expect_rc 0 "$name: move-user --check"
    run "$AUDIT" check --url "$url" --queue "$q" --root "$R" --dest "$D" \
        --manifest "$WORK/$name.manifest"
    expect_rc 0 "$name: audit"
    expect_eq "$(count)" 0 "$name: the queue is empty"
    expect_eq "$(count "$q.dead")" 0 "$name: the dead-letter queue is empty"
}
job scan-first scan
job move-first move

# --- 2. one permission less --------------------------------------------------------------
# without LIST DROP : the regex of LIST's names without DROP; '^$' (nothing)
# when DROP is '*'.
without() {
    local keep=() n
    if [ "$2" = '*' ]; then
        printf '^$'
        return
    fi
    for n in $1; do
        [ "$n" = "$2" ] || keep+=("$n")
    done
    alt "${keep[@]}"
}

# kind_of NAME : exchange or queue.
kind_of() { case $1 in "$ex" | "$ex.dlx") echo exchange ;; *) echo queue ;; esac; }

# expect_refused TOOL USER DROP WHAT : exit 77, and a line of TOOL's stderr
# names the resource DROP (any, for '*') and USER.
expect_refused() {
    local what=$4 res
    expect_rc 77 "$what"
    if [ "$3" = '*' ]; then
        res="(exchange|queue) '[^']+'"
    else
        res="$(kind_of "$3") '$(printf '%s' "$3" | sed 's/[].[^$*+?(){}|\\]/\\&/g')'"
    fi
    expect_re err "^$1: .*access to $res in vhost '/' refused for user '$2'" \
        "$what: stderr names what is missing"
}

# A dead letter in $q.dead whose file is at $1/f (made with the broker's
# guest account, which may do everything).
dead_letter() {
    mkdir -p "$1" "$1.to"
    echo dead >"$1/f"
    env AMQP_URL="$url" "$SCAN" -q --queue "$q" --exchange "$ex" --no-mime "$1" ||
        fail "scan as guest"
    mv "$1/f" "$1.f"
    env AMQP_URL="$url" "$MOVE" -q --queue "$q" --exchange "$ex" --from "$1" --to "$1.to" \
        --idle-exit 1s 2>"$WORK/dead_letter.err" || true
    mv "$1.f" "$1/f"
    expect_eq "$(count "$q.dead")" 1 "$(basename "$1"): a dead letter to work on"
}

n=0
for perm in configure write read; do
    # scan, on a topology it creates.
    for drop in ex ex.dlx q q.dead '*'; do
        [ "$perm/$drop" != read/q.dead ] || continue
        n=$((n + 1))
        topo_names "s$n"
        documented
        case $drop in ex) d=$ex ;; ex.dlx) d=$ex.dlx ;; q) d=$q ;; q.dead) d=$q.dead ;; *) d='*' ;; esac
        case $perm in
            configure) grant scan-user "$(without "$ex $ex.dlx $q $q.dead" "$d")" "$s_write" "$s_read" ;;
            write) grant scan-user "$s_conf" "$(without "$ex $ex.dlx $q $q.dead" "$d")" "$s_read" ;;
            read) grant scan-user "$s_conf" "$s_write" "$(without "$ex $ex.dlx $q" "$d")" ;;
        esac
        mkdir -p "$WORK/s$n"
        echo x >"$WORK/s$n/x"
        as_scan --no-mime "$WORK/s$n"
        expect_refused scan scan-user "$d" "scan, $perm without $drop"
        echo "scan, $perm without $drop: exit $rc: $(grep -m1 'refused for user' "$WORK/err")"
    done
    # move, on a topology that exists: the run that needs the permission.
    for drop in ex ex.dlx q q.dead '*'; do
        n=$((n + 1))
        topo_names "m$n"
        declare_topo >/dev/null || fail "m$n: scan could not declare the topology"
        documented
        case $drop in ex) d=$ex ;; ex.dlx) d=$ex.dlx ;; q) d=$q ;; q.dead) d=$q.dead ;; *) d='*' ;; esac
        all="$ex $ex.dlx $q $q.dead"
        case $perm in
            configure) grant move-user "$(without "$all" "$d")" "$m_write" "$m_read" ;;
            write) grant move-user "$m_conf" "$(without "$all" "$d")" "$m_read" ;;
            read) grant move-user "$m_conf" "$m_write" "$(without "$all" "$d")" ;;
        esac
        R=$WORK/m$n
        case $perm/$drop in
            write/ex) # only --requeue-dead publishes to the exchange
                dead_letter "$R"
                as_move --requeue-dead --from "$R" --to "$R.to"
                ;;
            read/q.dead) # only --dead, --requeue-dead and --purge-dead read it
                dead_letter "$R"
                as_move --dead
                ;;
            *)
                mkdir -p "$R" "$R.to"
                as_move --from "$R" --to "$R.to" --idle-exit 1s
                ;;
        esac
        expect_refused move move-user "$d" "move, $perm without $drop"
        echo "move, $perm without $drop: exit $rc: $(grep -m1 'refused for user' "$WORK/err")"
    done
done

finish
