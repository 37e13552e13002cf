#!/usr/bin/env bash
# CLI behaviour of both tools that needs no broker: help, version, usage
# errors, configuration errors, and an unreachable broker.
. "$(dirname "$0")/../lib.sh"

for tool in scan move; do
    bin=$SCAN
    [ "$tool" = move ] && bin=$MOVE

    run "$bin" --help
    expect_rc 0 "$tool --help"
    expect_in out "Usage: $tool" "$tool --help"
    expect_in out "--url-file" "$tool --help lists broker options"
    expect_in out "Exit status" "$tool --help lists exit statuses"
    run "$bin" -h
    expect_rc 0 "$tool -h"

    run "$bin" --version
    expect_rc 0 "$tool --version"
    expect_in out "$tool (scanmove) ${SCANMOVE_VERSION:-}" "$tool --version"
    expect_lines out 1 "$tool --version"

    # Usage errors: one line naming the problem, a hint, status 64.
    run "$bin" --no-such-flag
    expect_rc 64 "$tool unknown long option"
    expect_in err "$tool: unknown option '--no-such-flag'" "$tool unknown long option"
    expect_in err "Try '$tool --help'." "$tool unknown long option"
    expect_lines err 2 "$tool unknown long option"
    run "$bin" -Z
    expect_rc 64 "$tool unknown short option"
    expect_in err "unknown option '-Z'" "$tool unknown short option"
    run "$bin" --check --queue
    expect_rc 64 "$tool missing argument"
    expect_in err "needs an argument" "$tool missing argument"
    run "$bin" --check --queue-type stream
    expect_rc 64 "$tool bad --queue-type"
    expect_in err "--queue-type must be quorum or classic, not 'stream'" "$tool bad --queue-type"
    run "$bin" --check --heartbeat soon
    expect_rc 64 "$tool bad --heartbeat"
    expect_in err "--heartbeat: 'soon' is not a duration" "$tool bad --heartbeat"
    run "$bin" --check --delivery-limit -1
    expect_rc 64 "$tool bad --delivery-limit"
    run "$bin"
    expect_rc 64 "$tool with nothing to do"
    run "$bin" --check --url amqp://h/ --url-file "$WORK/nope"
    expect_rc 64 "$tool --url with --url-file"
    expect_in err "together" "$tool --url with --url-file"

    # Configuration errors: status 78, one line.
    run env SCANMOVE_QUEUE_TYPE=stream "$bin" --check
    expect_rc 78 "$tool bad SCANMOVE_QUEUE_TYPE"
    expect_in err "SCANMOVE_QUEUE_TYPE must be quorum or classic" "$tool bad SCANMOVE_QUEUE_TYPE"
    expect_lines err 1 "$tool bad SCANMOVE_QUEUE_TYPE"
    # ... unless a flag overrides it: flags > environment > defaults
    run env SCANMOVE_QUEUE_TYPE=stream "$bin" --check --queue-type classic --url amqp://127.0.0.1:1/
    expect_rc 69 "$tool a flag overrides a bad variable"
    expect_not_in err "SCANMOVE_QUEUE_TYPE" "$tool a flag overrides a bad variable"
    run "$bin" --check --url http://h/
    expect_rc 78 "$tool bad URL scheme"
    expect_in err "$tool: the broker URL must start with amqp:// or amqps://" "$tool bad URL scheme"
    expect_lines err 1 "$tool bad URL scheme"
    run "$bin" --check --url-file "$WORK/missing-url-file"
    expect_rc 78 "$tool missing URL file"
    expect_in err "cannot read the URL file $WORK/missing-url-file: No such file or directory" \
        "$tool missing URL file"
    : >"$WORK/empty-url"
    run "$bin" --check --url-file "$WORK/empty-url"
    expect_rc 78 "$tool empty URL file"
    expect_in err "is empty" "$tool empty URL file"
    run "$bin" --check --url amqps://127.0.0.1:1/ --cacert "$WORK/no-such-ca.pem"
    expect_rc 78 "$tool missing CA file"
    expect_in err "cannot load CA certificates from $WORK/no-such-ca.pem" "$tool missing CA file"

    # Unreachable broker: status 69, one sentence, password masked.
    run "$bin" --check --url amqp://u:hunter2@127.0.0.1:1/
    expect_rc 69 "$tool connection refused"
    expect_in err "$tool: cannot connect to amqp://u@127.0.0.1:1/: connection refused" \
        "$tool connection refused"
    expect_not_in err "hunter2" "$tool password masked"
    expect_lines err 2 "$tool connection refused (the argv warning and the error)"
    expect_in err "visible to other users" "$tool warns about a password on argv"
    printf 'amqp://u:hunter2@127.0.0.1:1/\n' >"$WORK/url"
    run "$bin" --check --url-file "$WORK/url"
    expect_rc 69 "$tool connection refused, URL from file"
    expect_lines err 1 "$tool connection refused, URL from file"
    expect_not_in err "hunter2" "$tool password masked, URL from file"
    run env AMQP_URL=amqp://u:hunter2@127.0.0.1:1/ "$bin" --check
    expect_rc 69 "$tool connection refused, URL from AMQP_URL"
    expect_not_in err "hunter2" "$tool password masked, URL from AMQP_URL"
    run "$bin" --check --url amqp://no-such-host.invalid/ --connect-timeout 5s
    expect_rc 69 "$tool unknown host"
    expect_in err "cannot connect to amqp://guest@no-such-host.invalid:5672/: host not found" \
        "$tool unknown host"
done

# stdout carries data only: nothing on it for an error.
run "$SCAN" --check --url amqp://127.0.0.1:1/
checks=$((checks + 1))
[ -s "$WORK/out" ] && fail "scan printed to stdout on error: $(cat "$WORK/out")"

# A full stdout is an error, not silence.
if [ -w /dev/full ]; then
    set +e
    "$SCAN" --version >/dev/full 2>"$WORK/err"
    rc=$?
    set -e
    expect_rc 74 "scan --version to a full disk"
fi

finish
