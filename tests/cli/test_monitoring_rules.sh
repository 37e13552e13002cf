#!/usr/bin/env bash
# The example alert rules of docs/monitoring.md: `promtool check rules`
# passes on docs/monitoring-rules.yml, `promtool test rules` shows each
# alert firing when it should and only then
# (tests/fixtures/monitoring-rules-test.yml), the copy in
# docs/monitoring.md is the file's text, and every metric the tools write
# is documented there and in the tool's man page, and no other. Needs
# promtool (Debian package prometheus); skipped (77) without it.
. "$(dirname "$0")/../lib.sh"

DOCS=$SOURCE_DIR/docs
command -v promtool >/dev/null || skip "promtool is not installed (Debian package prometheus)"

run promtool check rules "$DOCS/monitoring-rules.yml"
expect_rc 0 "promtool check rules docs/monitoring-rules.yml"
expect_in out "SUCCESS: 6 rules found" "promtool check rules: the six example rules"

# promtool test rules finds the rule file relative to the test file.
run promtool test rules "$TESTS_DIR/fixtures/monitoring-rules-test.yml"
expect_rc 0 "promtool test rules: each alert fires when it should"

# The copy in the document, between its markers, is the file.
sed -n '/^<!-- monitoring-rules.yml: begin/,/^<!-- monitoring-rules.yml: end/p' \
    "$DOCS/monitoring.md" | sed '1,2d;$d' | sed '$d' >"$WORK/quoted.yml"
checks=$((checks + 1))
cmp -s "$WORK/quoted.yml" "$DOCS/monitoring-rules.yml" ||
    fail "docs/monitoring.md quotes another text than docs/monitoring-rules.yml: $(diff "$WORK/quoted.yml" "$DOCS/monitoring-rules.yml" | head -5)"

# names FILE... : the scanmove_ metric names in FILEs, one per line, sorted.
names() {
    sed 's/\\_/_/g' "$@" | grep -oE 'scanmove_[a-z_]+[a-z]' | sed -E 's/_(bucket|sum|count)$//' |
        sort -u
}

# The names the tools write are in their sources as string constants.
names "$SOURCE_DIR/scanner/metrics.c" "$SOURCE_DIR/common/metrics.c" >"$WORK/scan.names"
names "$SOURCE_DIR/mover/metrics.c" "$SOURCE_DIR/common/metrics.c" >"$WORK/move.names"
sort -u "$WORK/scan.names" "$WORK/move.names" >"$WORK/all.names"
checks=$((checks + 1))
[ "$(wc -l <"$WORK/all.names")" -ge 15 ] || fail "too few metric names found in the sources"
names "$DOCS/monitoring.md" >"$WORK/doc.names"
checks=$((checks + 1))
missing=$(comm -23 "$WORK/all.names" "$WORK/doc.names" | tr '\n' ' ')
[ -z "$missing" ] || fail "written but not in docs/monitoring.md: $missing"
checks=$((checks + 1))
extra=$(comm -13 "$WORK/all.names" "$WORK/doc.names" | tr '\n' ' ')
[ -z "$extra" ] || fail "in docs/monitoring.md but written by neither tool: $extra"
names "$DOCS/monitoring-rules.yml" >"$WORK/rule.names"
checks=$((checks + 1))
extra=$(comm -13 "$WORK/all.names" "$WORK/rule.names" | tr '\n' ' ')
[ -z "$extra" ] || fail "the rules use metrics neither tool writes: $extra"
for tool in scan move; do
    names "$DOCS/$tool.1" >"$WORK/man.names"
    checks=$((checks + 1))
    missing=$(comm -23 "$WORK/$tool.names" "$WORK/man.names" | tr '\n' ' ')
    [ -z "$missing" ] || fail "written by $tool but not in docs/$tool.1: $missing"
    checks=$((checks + 1))
    grep -q 'monitoring\.md' "$DOCS/$tool.1" || fail "docs/$tool.1 does not point to docs/monitoring.md"
done

finish
