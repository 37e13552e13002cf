#!/usr/bin/env bash
# scan without a broker (--dry-run, checked by tests/scan_check.py):
# --mime and --no-mime (mime-not-allowed, the mime field).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/cli/scan_lib.sh"

# --- MIME type --------------------------------------------------------------
t=$WORK/t6
r=$(realpath -m "$t")
mkdir -p "$t"
# A complete 1x1 PNG (libmagic wants the IHDR chunk, not just the signature).
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\nIDATx\x9cc\x00\x01\x00\x00\x05\x00\x01\r\n-\xb4\x00\x00\x00\x00IEND\xaeB`\x82' \
    >"$t/img.dat"
printf 'just some text\n' >"$t/note.png"
if command -v file >/dev/null; then
    checks=$((checks + 1))
    [ "$(file -b --mime-type "$t/img.dat")" = image/png ] ||
        fail "the crafted PNG is not image/png to libmagic"
fi
dry "$t"
expect_rc 0 "default MIME detection"
expect_eq "$(field img.dat mime)" "image/png" "mime by content, not by name (PNG)"
expect_eq "$(field note.png mime)" "text/plain" "mime by content, not by name (text)"
dry --mime 'text/*' "$t"
outcomes "--mime 'text/*'" "$r" note.png published img.dat rejected:mime-not-allowed
dry --mime 'image/png' --mime 'application/pdf' "$t"
outcomes "--mime is repeatable" "$r" note.png rejected:mime-not-allowed img.dat published
dry --no-mime "$t"
outcomes "--no-mime" "$r" note.png published img.dat published
pycheck "--no-mime leaves \"mime\" out" checkmsg absent "$WORK/out"
dry --no-mime --mime 'text/*' "$t"
outcomes "--no-mime with a --mime rule" "$r" note.png published img.dat rejected:mime-not-allowed
pycheck "--no-mime with a --mime rule still leaves \"mime\" out" checkmsg absent "$WORK/out"
dry --mime 'image/*' --min-size 1K "$t"
outcomes "the size is checked before the type" "$r" note.png rejected:too-small \
    img.dat rejected:too-small

finish
