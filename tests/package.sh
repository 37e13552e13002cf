#!/usr/bin/env bash
# tests/package.sh - build the Debian package and install it on this machine:
# cpack -G DEB in a build tree of its own (prefix /usr), `apt-get install`
# of the .deb, then what an operator would try first (scan --version,
# man -w scan, the completion of `move --o<TAB>`, the user, the units), and
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
for lib in libc6 librabbitmq4 libcjson1 libmagic1; do
    expect_in out "$lib" "Depends, computed by dpkg-shlibdeps, names $lib"
done
run dpkg-deb --info "$deb" conffiles
expect_in out /etc/scanmove/example.conf "example.conf is a conffile"
run dpkg-deb --contents "$deb"
for f in ./usr/bin/scan ./usr/bin/move ./usr/share/man/man1/scan.1.gz ./usr/share/man/man1/move.1.gz \
    ./usr/share/doc/scanmove/guarantees.md ./usr/share/doc/scanmove/message-format.md \
    ./usr/share/doc/scanmove/deploy.md ./usr/share/doc/scanmove/monitoring.md \
    ./lib/systemd/system/scanmove-move@.service ./lib/systemd/system/scanmove-scan@.service \
    ./lib/systemd/system/scanmove-scan@.timer ./usr/libexec/scanmove/scanmove-exec \
    ./usr/share/bash-completion/completions/scan ./usr/share/bash-completion/completions/move \
    ./usr/lib/sysusers.d/scanmove.conf; do
    expect_in out " $f" "the package has $f"
done
expect_in out "-rw-r----- root/root" "example.conf is not world-readable"

run apt-get install -y "$deb"
expect_rc 0 "apt-get install ./${deb##*/}"

run scan --version
expect_rc 0 "scan --version"
expect_in out "$version" "scan --version names the version"
run man -w scan
expect_rc 0 "man -w scan"
expect_in out /usr/share/man/man1/scan.1.gz "man -w scan finds the package's page"
run bash -c 'source /usr/share/bash-completion/completions/move
    COMP_WORDS=(move --o); COMP_CWORD=1; _move; echo "${COMPREPLY[*]}"'
expect_rc 0 "completing move --o"
expect_in out --on-conflict "move --o<TAB> completes --on-conflict"
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
[ ! -e /usr/bin/scan ] || fail "/usr/bin/scan is still there after the removal"
checks=$((checks + 1))
[ -e /etc/scanmove/example.conf ] || fail "remove took the conffile (only purge should)"
run apt-get purge -y scanmove
expect_rc 0 "apt-get purge scanmove"
checks=$((checks + 1))
[ ! -e /etc/scanmove/example.conf ] || fail "purge left /etc/scanmove/example.conf"

finish
