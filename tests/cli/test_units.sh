#!/usr/bin/env bash
# The service files as `cmake --install` lays them out: installed into a
# staging root (DESTDIR), the systemd units pass `systemd-analyze verify`
# (with their Exec paths pointed at the staged files, and no warning
# either), scanmove-exec maps an instance to its pipeline's file and the
# file's settings to options, the scanmove command runs the tools (which
# are not in PREFIX/bin: Debian has another scan), and the bash completion
# completes `scanmove move --o<TAB>`. Skipped (77) only where
# systemd-analyze is missing.
. "$(dirname "$0")/../lib.sh"

command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (package systemd)"
BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
stage=$WORK/stage
run env DESTDIR="$stage" cmake --install "$BUILD_DIR"
expect_rc 0 "cmake --install into a staging root"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD_DIR/CMakeCache.txt")
unitdir=$(sed -n 's/^SCANMOVE_SYSTEMDUNITDIR:PATH=//p' "$BUILD_DIR/CMakeCache.txt")
sysusersdir=$(sed -n 's/^SCANMOVE_SYSUSERSDIR:PATH=//p' "$BUILD_DIR/CMakeCache.txt")
confdir=$(sed -n 's/^SCANMOVE_CONFDIR:PATH=//p' "$BUILD_DIR/CMakeCache.txt")

# has PATH [MODE] : the staging root has PATH (with that octal mode).
has() {
    checks=$((checks + 1))
    if [ ! -e "$stage$1" ]; then
        fail "not installed: $1"
    elif [ -n "${2:-}" ] && [ "$(stat -c %a "$stage$1")" != "$2" ]; then
        fail "$1 has mode $(stat -c %a "$stage$1"), expected $2"
    fi
}
for f in scanmove-move@.service scanmove-scan@.service scanmove-scan@.timer; do
    has "$unitdir/$f" 644
done
has "$prefix/libexec/scanmove/scanmove-exec" 755
has "$confdir/example.conf" 640
has "$sysusersdir/scanmove.conf"
for f in README.md guarantees.md message-format.md deploy.md monitoring.md; do
    has "$prefix/share/doc/scanmove/$f"
done
tooldir=$prefix/lib/scanmove/bin
has "$prefix/bin/scanmove" 755
has "$prefix/share/man/man1/scanmove.1.gz"
has "$prefix/share/bash-completion/completions/scanmove"
for tool in scan move; do
    has "$tooldir/$tool" 755
    has "$prefix/share/man/man1/scanmove-$tool.1.gz"
    # man looks next to each directory of PATH: `man scan` with the tool
    # directory in PATH finds the link to scanmove-scan.1.gz.
    has "$prefix/lib/scanmove/share/man/man1/$tool.1.gz"
    run env -u MANPATH PATH="$stage$tooldir:$PATH" man -w "$tool"
    expect_rc 0 "man -w $tool, the tool directory in PATH"
    expect_in out "$stage$prefix/share/man/man1/scanmove-$tool.1.gz" "man -w $tool, the tool directory in PATH"
    # Not under the short names: dvb-apps has /usr/bin/scan and scan.1.gz,
    # mmh completions/scan.
    for f in bin/$tool share/man/man1/$tool.1.gz share/bash-completion/completions/$tool; do
        checks=$((checks + 1))
        [ ! -e "$stage$prefix/$f" ] || fail "installed under the tool's short name: $prefix/$f"
    done
done

# The units, their Exec paths (those that the stage has) moved into it:
# verify checks that each command exists and is executable.
mkdir "$WORK/units"
for f in "$stage$unitdir"/scanmove-*; do
    while IFS= read -r line; do
        case $line in
        Exec*=/*)
            key=${line%%=*} cmd=${line#*=}
            path=${cmd%% *}
            [ -e "$stage$path" ] && line="$key=$stage$cmd"
            ;;
        esac
        printf '%s\n' "$line"
    done <"$f" >"$WORK/units/${f##*/}"
done
checks=$((checks + 1))
grep -q "^ExecStart=$stage$prefix/libexec/scanmove/scanmove-exec move %i\$" "$WORK/units/scanmove-move@.service" ||
    fail "the staged mover unit does not start the staged scanmove-exec: $(grep ^ExecStart "$WORK/units/scanmove-move@.service")"
checks=$((checks + 1))
grep -q "^bindir=$tooldir\$" "$stage$prefix/libexec/scanmove/scanmove-exec" ||
    fail "scanmove-exec does not start the tools in $tooldir: $(grep ^bindir= "$stage$prefix/libexec/scanmove/scanmove-exec")"

cd "$WORK/units"
set +e
MANPATH=$stage$prefix/share/man systemd-analyze verify scanmove-move@archive1.service \
    scanmove-scan@archive.service scanmove-scan@archive.timer >"$WORK/err" 2>&1
rc=$?
set -e
expect_rc 0 "systemd-analyze verify on the units"
expect_lines err 0 "systemd-analyze verify says nothing (no warning either)"

# The check can fail: a unit with a misspelt key is caught, warning or not.
sed 's/^NoNewPrivileges=/NoNewPrivilege=/' scanmove-move@.service >"$WORK/broken@.service"
set +e
MANPATH=$stage$prefix/share/man systemd-analyze verify "$WORK/broken@x.service" >"$WORK/err" 2>&1
set -e
checks=$((checks + 1))
grep -q "NoNewPrivilege" "$WORK/err" || fail "a misspelt key went unnoticed: $(cat "$WORK/err")"
cd "$WORK"

# scanmove-exec, with its directories pointed at this workspace and tools
# that print their arguments and a setting from the environment.
mkdir -p "$WORK/etc" "$WORK/bin" "$WORK/metrics"
for tool in scan move; do
    printf '#!/bin/sh\necho "%s $* queue=$SCANMOVE_QUEUE"\n' "$tool" >"$WORK/bin/$tool"
    chmod +x "$WORK/bin/$tool"
done
sed -e "s|^confdir=.*|confdir=$WORK/etc|" -e "s|^bindir=.*|bindir=$WORK/bin|" \
    "$stage$prefix/libexec/scanmove/scanmove-exec" >"$WORK/exec"
cat >"$WORK/etc/archive.conf" <<CONF
SCANMOVE_SCAN_DIRS="/srv/a /srv/b*"
SCANMOVE_FROM="/srv/a /srv/b*"
SCANMOVE_TO=/srv/out
SCANMOVE_QUEUE=arch
SCANMOVE_MOVE_OPTS="--fsync --prefetch 64"
SCANMOVE_SCAN_OPTS="--min-age 2m"
SCANMOVE_METRICS_DIR=$WORK/metrics
CONF
for instance in archive archive3 archive-3 archive:3 archive_12; do
    run sh "$WORK/exec" move "$instance"
    expect_rc 0 "scanmove-exec move $instance"
    expect_in out "move --from /srv/a --from /srv/b* --to /srv/out --metrics $WORK/metrics/scanmove-move-$instance.prom --fsync --prefetch 64 queue=arch" \
        "scanmove-exec move $instance reads archive.conf"
done
run sh "$WORK/exec" scan archive
expect_rc 0 "scanmove-exec scan archive"
expect_in out "scan --metrics $WORK/metrics/scanmove-scan-archive.prom --min-age 2m -- /srv/a /srv/b* queue=arch" \
    "scanmove-exec scan archive"
# An instance's own file wins over its pipeline's.
printf 'SCANMOVE_FROM=/srv/c\nSCANMOVE_TO=/srv/d\nSCANMOVE_METRICS_DIR=%s/none\n' "$WORK" >"$WORK/etc/archive7.conf"
run sh "$WORK/exec" move archive7
expect_rc 0 "scanmove-exec move archive7"
expect_in out "move --from /srv/c --to /srv/d queue=" "archive7.conf wins over archive.conf"
expect_in err "no metrics: $WORK/none is not a writable directory" "a missing metrics directory is said"
# What cannot work exits 78, which the units do not restart.
run sh "$WORK/exec" move other1
expect_rc 78 "scanmove-exec without the pipeline's file"
expect_in err "cannot read $WORK/etc/other.conf or $WORK/etc/other1.conf" "the missing files are named"
printf 'SCANMOVE_FROM=/srv/a\n' >"$WORK/etc/half.conf"
run sh "$WORK/exec" move half
expect_rc 78 "scanmove-exec without SCANMOVE_TO"
expect_in err "SCANMOVE_TO is empty" "the missing key is named"
printf 'SCANMOVE_FROM="/srv/a\n' >"$WORK/etc/bad.conf"
run sh "$WORK/exec" move bad
expect_rc 78 "scanmove-exec with a file sh cannot read"

# The scanmove command, its tool directory pointed at the staged tools.
checks=$((checks + 1))
grep -q "^tooldir=$tooldir\$" "$stage$prefix/bin/scanmove" ||
    fail "scanmove does not run the tools in $tooldir: $(grep ^tooldir= "$stage$prefix/bin/scanmove")"
sed "s|^tooldir=.*|tooldir=$stage$tooldir|" "$stage$prefix/bin/scanmove" >"$WORK/scanmove"
for tool in scan move; do
    run sh "$WORK/scanmove" "$tool" --version
    expect_rc 0 "scanmove $tool --version"
    expect_in out "$tool (scanmove) $SCANMOVE_VERSION" "scanmove $tool --version runs $tool and names it so"
    # The tool names itself as it was called (SCANMOVE_PROG).
    run sh "$WORK/scanmove" "$tool" --no-such-option
    expect_rc 64 "scanmove $tool --no-such-option"
    expect_in err "scanmove $tool: error: unknown option '--no-such-option'" "$tool's usage error names scanmove $tool"
    expect_in err "Try 'scanmove $tool --help'." "$tool's usage error names a command that works"
done
run sh "$WORK/scanmove" move --on-conflict=sideways --from "$WORK" --to "$WORK"
expect_rc 64 "scanmove move passes its arguments on"
expect_in err "sideways" "scanmove move passes its arguments on unchanged"
run sh "$WORK/scanmove" --help
expect_rc 0 "scanmove --help"
expect_in out "scanmove scan [OPTIONS] DIR..." "scanmove --help shows scan"
expect_in out "man scanmove-move" "scanmove --help points to the man pages"
expect_in out "PATH=$stage$tooldir:" "scanmove --help says how to get the short names"
run sh "$WORK/scanmove" --version
expect_rc 0 "scanmove --version"
expect_in out "scanmove $SCANMOVE_VERSION" "scanmove --version"
for args in "" "frobnicate" "-x"; do
    # shellcheck disable=SC2086
    run sh "$WORK/scanmove" $args
    expect_rc 64 "scanmove $args"
    expect_lines out 0 "scanmove $args prints nothing on stdout"
    expect_in err "Try 'scanmove --help'." "scanmove $args: usage on stderr"
done
expect_in err "unknown command '-x'" "an unknown command is named"

# The completion, as bash loads it for `scanmove`: the tools found next to
# the scanmove command being completed (by path, or in PATH).
completions=$stage$prefix/share/bash-completion/completions
run bash -c 'source "$1"; COMP_WORDS=("$2" move --o); COMP_CWORD=2; _scanmove; echo "${COMPREPLY[*]}"
    COMP_WORDS=("$2" ""); COMP_CWORD=1; _scanmove; echo "${COMPREPLY[*]}"
    PATH=${2%/*}:$PATH; COMP_WORDS=(scanmove scan --max); COMP_CWORD=2; _scanmove; echo "${COMPREPLY[*]}"
    COMP_WORDS=(scanmove frobnicate --o); _scanmove; echo "[${COMPREPLY[*]}]"' \
    bash "$completions/scanmove" "$stage$prefix/bin/scanmove"
expect_rc 0 "completing scanmove"
expect_in out "--on-conflict" "scanmove move --o<TAB> completes --on-conflict"
expect_in out "scan move --help --version" "scanmove <TAB> completes the commands"
expect_in out "--max-depth --max-size --max-age --max-queued" "scanmove scan --max<TAB>, scanmove in PATH"
expect_in out "[]" "nothing after an unknown command"
# _scan and _move, for whoever sources the file with the short names in
# PATH: registered then, and only then (mmh has a scan of its own).
run bash -c 'source "$1"; complete -p scan move' bash "$completions/scanmove"
expect_rc 1 "no completion for scan and move that are not scanmove's"
run env PATH="$stage$tooldir:$PATH" bash -c 'source "$1"; complete -p scan move' bash "$completions/scanmove"
expect_in out "complete -F _move move" "_move completes move when it is scanmove's"
run bash -c 'source "$1"; COMP_WORDS=("$2" --o); COMP_CWORD=1; _move; echo "${COMPREPLY[*]}"' \
    bash "$completions/scanmove" "$MOVE"
expect_rc 0 "completing move --o"
expect_in out "--on-conflict" "move --o<TAB> completes --on-conflict"
mkdir "$WORK/dir.x"
touch "$WORK/file.x"
run bash -c 'cd "$3"; source "$1"; COMP_WORDS=("$2" --from "dir"); COMP_CWORD=2; _move; echo "${COMPREPLY[*]}"
    COMP_WORDS=("$2" --url-file "file"); _move; echo "${COMPREPLY[*]}"
    COMP_WORDS=("$2" --url-order ""); COMP_CWORD=2; _move; echo "${COMPREPLY[*]}"' \
    bash "$completions/scanmove" "$MOVE" "$WORK"
expect_rc 0 "completing move's arguments"
expect_in out "dir.x" "a directory after --from"
expect_in out "file.x" "a file after --url-file"
expect_in out "random ordered" "the choices of --url-order"
run bash -c 'source "$1"; COMP_WORDS=("$2" --max); COMP_CWORD=1; _scan; echo "${COMPREPLY[*]}"' \
    bash "$completions/scanmove" "$SCAN"
expect_in out "--max-depth --max-size --max-age --max-queued" "scan --max<TAB>"

finish
