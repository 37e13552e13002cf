#!/usr/bin/env bash
# quickstart.sh - set up a Debian machine for scanmove and run it.
#
#   ./quickstart.sh demo   install what is missing, build, start a private
#                          RabbitMQ on loopback, scan a sample directory and
#                          move its files to sample.done with two movers
#   ./quickstart.sh test   install what is missing, build, and run the whole
#                          test suite (unit, cli, broker, faults and cluster tests)
#
# Environment: BUILD_DIR (default build), SANITIZE (e.g. address,undefined),
# CMAKE_BUILD_TYPE (default RelWithDebInfo), CTEST_EXCLUDE (labels to leave
# out, a ctest -LE regex; CI runs the cluster label in a step of its own).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
build=${BUILD_DIR:-build}
packages=(build-essential cmake pkg-config file librabbitmq-dev libcjson-dev libmagic-dev libxxhash-dev
          libcmocka-dev rabbitmq-server python3 python3-pika openssl strace)

say() { printf 'quickstart: %s\n' "$*" >&2; }

install_deps() {
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    # policy-rc.d may forbid starting Debian's own rabbitmq-server service;
    # the tests never use it, they start a private broker of their own.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

build() {
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" \
        -DSANITIZE="${SANITIZE:-}" >/dev/null
    cmake --build "$build" -j"$(nproc)"
}

make_sample() {
    local dir=$1 tmp
    tmp=$(mktemp -d "$dir.XXXXXX")
    mkdir -p "$tmp/docs" "$tmp/images" "$tmp/misc"
    # head closes the pipe early: that is not a failure here.
    (set +o pipefail
     find /usr/share/doc -maxdepth 2 -type f -size -64k -print0 | head -z -n 200 | xargs -0 -r cp -t "$tmp/docs/"
     find /usr/share -type f \( -name '*.png' -o -name '*.svg' \) -size -64k -print0 | head -z -n 100 |
         xargs -0 -r cp -t "$tmp/images/") 2>/dev/null || true
    cp /bin/true /etc/os-release "$tmp/misc/"
    touch "$tmp/misc/.hidden-by-default"
    mv "$tmp" "$dir"
}

demo() {
    local url sample=${SAMPLE_DIR:-$here/sample}
    url=$(tests/broker.sh start)
    say "private broker running at ${url/guest:guest@/guest@} (stop it with: tests/broker.sh stop)"
    # A sample directory of real files of many types, made once.
    [ -d "$sample" ] || make_sample "$sample"
    say "scanning $sample: one message per accepted file, rejections listed on stdout"
    AMQP_URL=$url "$build/scanner/scan" --max-size 1M --rejects - "$sample"
    mkdir -p "$sample.done"
    say "moving them to $sample.done with two movers until the queue is idle"
    AMQP_URL=$url "$build/mover/move" --from "$sample" --to "$sample.done" --idle-exit 2s &
    AMQP_URL=$url "$build/mover/move" --from "$sample" --to "$sample.done" --idle-exit 2s
    wait
    AMQP_URL=$url "$build/scanner/scan" --check
    say "files in $sample.done: $(find "$sample.done" -type f | wc -l); left in $sample: $(find "$sample" -type f | wc -l) (rejected ones)"
}

run_tests() {
    # The broker tests start one private broker (tests/broker.sh) through a
    # ctest fixture and stop it at the end.
    ctest --test-dir "$build" --output-on-failure -j2 ${CTEST_EXCLUDE:+-LE "$CTEST_EXCLUDE"}
}

case "${1:-}" in
demo) install_deps; build; demo ;;
# The tests also check the metrics (promtool, in Debian's prometheus) and the
# systemd units (systemd-analyze), set and read attributes and ACLs
# (setfattr and getfattr in attr, setfacl and getfacl in acl), and compare
# scan's xxh128 hashes with xxhsum -H2 (xxhash).
test) packages+=(prometheus systemd man-db attr acl xxhash); install_deps; build; run_tests ;;
*) echo "usage: $0 demo|test" >&2; exit 64 ;;
esac
