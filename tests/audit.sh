#!/usr/bin/env bash
# tests/audit.sh - the audit every fault scenario (tests/faults/) ends with.
#
#   tests/audit.sh snapshot DIR > MANIFEST
#       One line per entry below DIR (directories included, so that a
#       directory replaced by a symlink shows), sorted. The first field is
#       the Python repr of the relative path's bytes (os.fsencode, as
#       tests/move_util.py writes them), then, tab-separated:
#         regular file   file SHA256  size N  mode OCTAL  mtime NS
#         symlink        link REPR-OF-TARGET
#         directory      dir  mode OCTAL
#         other          type S_IFMT-OCTAL  mode OCTAL
#
#   tests/audit.sh check --url URL --queue Q --root ROOT --dest DEST \
#                        --manifest MANIFEST [--outside DIR=MANIFEST]... \
#                        [--ignore RELPATH]... [--mtime-granularity NS] [--quiet]
#       MANIFEST is a snapshot of ROOT taken before the scenario. Checks:
#       1. each regular file of MANIFEST is in exactly one place: at
#          DEST/<path>, identical (sha256, size, mode, mtime), and then not at
#          ROOT; or at ROOT/<path>, unchanged, and then not at DEST. Both:
#          "at both places"; neither: "lost"; different: "changed".
#       2. each file still at ROOT has a message naming it (root/root_b64 +
#          path/path_b64, compared by realpath of the root) ready in Q, or in
#          Q.dead (counted by reason: x-scanmove-reason, or for letters the
#          broker dead-lettered itself, the x-death reason, e.g.
#          delivery_limit). The queues are read with basic.get without
#          acknowledgement and the connection is closed, so the broker
#          requeues everything: for the quorum queue Q that is one delivery
#          more per message read, toward its x-delivery-limit (Q is read
#          only when some file is still at ROOT, and only until all of them
#          are found).
#       3. DEST holds nothing but directories and files of MANIFEST (no
#          duplicates, no conflict copies like name.1.ext, no strays).
#       4. no entry named .scanmove-* below ROOT or DEST (temporaries), and
#          nothing at ROOT that MANIFEST does not have, except directories
#          (a symlink or special file of MANIFEST must still be there, the
#          same).
#       5. each --outside DIR matches its MANIFEST snapshot exactly.
#       --mtime-granularity NS accepts at DEST an mtime truncated to NS
#       nanoseconds (a destination filesystem that stores coarser times,
#       such as ext4 with 128-byte inodes: 1000000000).
#       --ignore RELPATH leaves out RELPATH (and what is below it) from every
#       check of ROOT, DEST and MANIFEST: for files a scenario changes on
#       purpose.
#       Stdout: one summary line,
#         audit: N files: A at DEST, B at the source with a message queued,
#         C dead-lettered (reason: n, ...); 0 lost, 0 at both places,
#         0 strays, 0 temporaries, outside unchanged
#       ("outside not checked" without --outside; counts of other kinds of
#       violation are appended when there are any); --quiet leaves it out.
#       Stderr: each violation, "audit: KIND: ...", at most 20 per kind, then
#       "audit: KIND: ... and N more".
#       Exit status: 0 all checks pass, 1 a violation (or an unreadable
#       tree or queue), 2 usage error.
#
# Python 3, standard library only: tests/audit.py (which reads the queues
# with tests/amqp_tool.py's Conn). Fine for 200,000 files: the trees are
# walked with lstat, and only files whose size, mode and mtime match are
# hashed.
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
exec "$py" "$here/audit.py" "$@"
