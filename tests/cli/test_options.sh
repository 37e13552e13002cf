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
    expect_in err "$tool: error: unknown option '--no-such-flag'" "$tool unknown long option"
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
    expect_in err "$tool: error: the broker URL must start with amqp:// or amqps://" "$tool bad URL scheme"
    expect_lines err 1 "$tool bad URL scheme"
    run "$bin" --check --url-file "$WORK/missing-url-file"
    expect_rc 78 "$tool missing URL file"
    expect_in err "cannot read the URL file $WORK/missing-url-file: No such file or directory" \
        "$tool missing URL file"
    : >"$WORK/empty-url"
    run "$bin" --check --url-file "$WORK/empty-url"
    expect_rc 78 "$tool empty URL file"
    expect_in err "is empty" "$tool empty URL file"
    # Broker lists: one URL per --url, per line of --url-file, or per word of
    # AMQP_URL; a comma list says how to give several.
    run "$bin" --check --url amqp://127.0.0.1:1/,amqp://127.0.0.1:2/
    expect_rc 64 "$tool comma list in --url"
    expect_in err "$tool: error: --url takes one broker URL: give --url once per broker" \
        "$tool comma list in --url"
    run env AMQP_URL="amqp://u:hunter2@127.0.0.1:1/,amqp://127.0.0.1:2/" "$bin" --check
    expect_rc 78 "$tool comma list in AMQP_URL"
    expect_in err "AMQP_URL separates broker URLs with commas: separate them with spaces" \
        "$tool comma list in AMQP_URL"
    expect_not_in err "hunter2" "$tool comma list in AMQP_URL"
    args=()
    for i in $(seq 17); do args+=(--url "amqp://127.0.0.1:$i/"); done
    run "$bin" --check "${args[@]}"
    expect_rc 64 "$tool 17 --url"
    expect_in err "--url gives more than 16 broker URLs" "$tool 17 --url"
    printf '# the brokers\n\n  amqp://u:hunter2@127.0.0.1:1/  \n# amqp://127.0.0.1:2/\n' >"$WORK/urls"
    run "$bin" --check --url-file "$WORK/urls"
    expect_rc 69 "$tool URL file with comments and blank lines"
    expect_in err "cannot connect to amqp://u@127.0.0.1:1/" "$tool URL file with comments"
    printf 'amqp://127.0.0.1:1/\namqp://u:hunter2@127.0.0.1:2/ amqp://127.0.0.1:3/\n' >"$WORK/urls"
    run "$bin" --check --url-file "$WORK/urls"
    expect_rc 78 "$tool two URLs on a line of the URL file"
    expect_in err "line 2 of the URL file $WORK/urls holds more than a URL: give one URL per line" \
        "$tool two URLs on a line of the URL file"
    expect_not_in err "hunter2" "$tool two URLs on a line of the URL file"
    printf '# nothing yet\n\n' >"$WORK/urls"
    run "$bin" --check --url-file "$WORK/urls"
    expect_rc 78 "$tool URL file of comments"
    expect_in err "is empty but for blank lines and comments" "$tool URL file of comments"
    run "$bin" --check --url-order sorted
    expect_rc 64 "$tool bad --url-order"
    expect_in err "--url-order must be random or ordered, not 'sorted'" "$tool bad --url-order"
    run env SCANMOVE_URL_ORDER=sorted "$bin" --check
    expect_rc 78 "$tool bad SCANMOVE_URL_ORDER"
    expect_in err "SCANMOVE_URL_ORDER must be random or ordered" "$tool bad SCANMOVE_URL_ORDER"
    run "$bin" --check --url-order ordered --url amqp://127.0.0.1:1/ --url amqp://127.0.0.1:2/
    expect_rc 69 "$tool --url-order ordered"
    expect_in err "cannot connect to amqp://guest@127.0.0.1:1/" "$tool --url-order ordered"
    # RabbitMQ's URI query parameters; an unknown one is named.
    run "$bin" --check --url "amqp://u:hunter2@127.0.0.1:1/?hearbeat=10"
    expect_rc 78 "$tool unknown URL parameter"
    expect_in err "$tool: error: unknown parameter 'hearbeat' in the broker URL" "$tool unknown URL parameter"
    expect_not_in err "hunter2" "$tool unknown URL parameter"
    run "$bin" --check --url "amqp://127.0.0.1:1/?heartbeat=10&heartbeat=20"
    expect_rc 78 "$tool repeated URL parameter"
    expect_in err "parameter 'heartbeat' is given twice in the broker URL" "$tool repeated URL parameter"
    run "$bin" --check --url "amqp://127.0.0.1:1/?verify=maybe"
    expect_rc 78 "$tool bad URL parameter"
    expect_in err "parameter 'verify' in the broker URL must be verify_peer or verify_none" \
        "$tool bad URL parameter"
    run "$bin" --check --url "amqp://127.0.0.1:1/?heartbeat=10&connection_timeout=2000&channel_max=0"
    expect_rc 69 "$tool good URL parameters"
    run "$bin" --check --url amqps://127.0.0.1:1/ --cacert "$WORK/no-such-ca.pem"
    expect_rc 78 "$tool missing CA file"
    expect_in err "cannot load CA certificates from $WORK/no-such-ca.pem" "$tool missing CA file"

    # Unreachable broker: status 69, one sentence, password masked.
    run "$bin" --check --url amqp://u:hunter2@127.0.0.1:1/
    expect_rc 69 "$tool connection refused"
    expect_in err "$tool: error: cannot connect to amqp://u@127.0.0.1:1/: connection refused" \
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
