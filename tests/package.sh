#!/usr/bin/env bash
# tests/package.sh - build the Debian package and install it on this machine:
# cpack -G DEB in a build tree of its own (prefix /usr), `apt-get install`
# of the .deb, then what an operator would try first (scanmove scan
# --version, man -w scanmove-scan, the completion of `scanmove move
# --o<TAB>`, the user, the units), and
# `apt-get remove` and `purge` at the end. Run as root on Debian 12 (CI does,
# after the test suite); it leaves the machine without the package, as it
# found it (the user scanmove stays, as Debian leaves system users).
#
# Environment: PKG_BUILD_DIR (default build-deb).
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh

build=${PKG_BUILD_DIR:-build-deb}
export DEBIAN_FRONTEND=noninteractive
[ "$(id -u)" -eq 0 ] || { echo "package.sh: run as root (it installs the package)" >&2; exit 1; }
need=()
for p in dpkg-dev man-db file; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if dpkg-query -W -f='${Status}' scanmove 2>/dev/null | grep -q 'installed'; then
    echo "package.sh: scanmove is installed already; purging it first" >&2
    apt-get purge -y -qq scanmove >/dev/null
fi

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
    -DSCANMOVE_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
rm -f "$build"/scanmove_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
deb=$PWD/$build/scanmove_${version}_amd64.deb
checks=$((checks + 1))
[ -f "$deb" ] || { fail "cpack made no $deb: $(ls "$build"/*.deb 2>&1)"; finish; }
echo "package.sh: built ${deb##*/}"

# The control data: computed dependencies, the conffile, the scripts.
run dpkg-deb --field "$deb" Package Version Architecture Section Depends
expect_rc 0 "dpkg-deb --field"
expect_in out "Section: admin" "the section"
for lib in libc6 librabbitmq4 libcjson1 libmagic1 libxxhash0; do
    expect_in out "$lib" "Depends, computed by dpkg-shlibdeps, names $lib"
done
run dpkg-deb --info "$deb" conffiles
expect_in out /etc/scanmove/example.conf "example.conf is a conffile"
run dpkg-deb --contents "$deb"
expect_in out "-rw-r----- root/root" "example.conf is not world-readable"
# The paths alone (the sixth field), one per line.
awk '{ print $6 }' "$WORK/out" >"$WORK/paths"
for f in ./usr/bin/scanmove ./usr/lib/scanmove/bin/scan ./usr/lib/scanmove/bin/move \
    ./usr/share/man/man1/scanmove.1.gz ./usr/share/man/man1/scanmove-scan.1.gz \
    ./usr/share/man/man1/scanmove-move.1.gz \
    ./usr/share/doc/scanmove/guarantees.md ./usr/share/doc/scanmove/message-format.md \
    ./usr/share/doc/scanmove/deploy.md ./usr/share/doc/scanmove/monitoring.md \
    ./lib/systemd/system/scanmove-move@.service ./lib/systemd/system/scanmove-scan@.service \
    ./lib/systemd/system/scanmove-scan@.timer ./usr/libexec/scanmove/scanmove-exec \
    ./usr/share/bash-completion/completions/scanmove \
    ./usr/lib/scanmove/share/man/man1/scan.1.gz ./usr/lib/scanmove/share/man/man1/move.1.gz \
    ./usr/lib/sysusers.d/scanmove.conf; do
    checks=$((checks + 1))
    grep -qx -- "$f" "$WORK/paths" || fail "the package lacks $f"
done
# Nothing under the tools' short names, which other packages have (dvb-apps:
# /usr/bin/scan, scan.1.gz; mmh: completions/scan): no Conflicts needed.
for tool in scan move; do
    for f in ./usr/bin/$tool ./usr/share/man/man1/$tool.1.gz ./usr/share/bash-completion/completions/$tool; do
        checks=$((checks + 1))
        ! grep -qx -- "$f" "$WORK/paths" || fail "the package has $f"
    done
done
run dpkg-deb --field "$deb"
expect_not_in out "Conflicts:" "the package conflicts with nothing"

run apt-get install -y "$deb"
expect_rc 0 "apt-get install ./${deb##*/}"

run scanmove scan --version
expect_rc 0 "scanmove scan --version"
expect_in out "$version" "scanmove scan --version names the version"
run scanmove move --no-such-option
expect_rc 64 "scanmove move --no-such-option"
expect_in err "Try 'scanmove move --help'." "move's usage error names the scanmove command"
run man -w scanmove-scan
expect_rc 0 "man -w scanmove-scan"
expect_in out /usr/share/man/man1/scanmove-scan.1.gz "man -w scanmove-scan finds the package's page"
run env -u MANPATH PATH="/usr/lib/scanmove/bin:$PATH" man -w move
expect_in out /usr/share/man/man1/scanmove-move.1.gz "man -w move, with the tool directory in PATH"
run man -w scanmove
expect_in out /usr/share/man/man1/scanmove.1.gz "man -w scanmove finds the package's page"
run bash -c 'source /usr/share/bash-completion/completions/scanmove
    COMP_WORDS=(scanmove move --o); COMP_CWORD=2; _scanmove; echo "${COMPREPLY[*]}"'
expect_rc 0 "completing scanmove move --o"
expect_in out --on-conflict "scanmove move --o<TAB> completes --on-conflict"
run dpkg -L scanmove
expect_rc 0 "dpkg -L scanmove"
for f in /usr/bin/scan /usr/bin/move; do
    checks=$((checks + 1))
    ! grep -qx "$f" "$WORK/out" || fail "the package installed $f"
done
expect_in out /usr/lib/scanmove/bin/move "dpkg -L scanmove lists the tools"
run id scanmove
expect_rc 0 "postinst created the user scanmove"
run stat -c '%U:%G %a' /etc/scanmove/example.conf
expect_in out "root:scanmove 640" "example.conf is readable by the units' user only"
if command -v systemd-analyze >/dev/null; then
    run systemd-analyze verify scanmove-move@archive1.service scanmove-scan@archive.timer
    expect_rc 0 "systemd-analyze verify on the installed units"
    expect_lines err 0 "systemd-analyze verify: no warning"
fi

run apt-get remove -y scanmove
expect_rc 0 "apt-get remove scanmove"
checks=$((checks + 1))
[ ! -e /usr/bin/scanmove ] || fail "/usr/bin/scanmove is still there after the removal"
checks=$((checks + 1))
[ -e /etc/scanmove/example.conf ] || fail "remove took the conffile (only purge should)"
run apt-get purge -y scanmove
expect_rc 0 "apt-get purge scanmove"
checks=$((checks + 1))
[ ! -e /etc/scanmove/example.conf ] || fail "purge left /etc/scanmove/example.conf"

finish
