/*
 * exitcode.h - the exit statuses of scan and move, one documented list.
 *
 * The numbers follow sysexits(3) where a familiar one exists, so that cron
 * jobs and systemd units can tell "try again later" from "fix the config".
 * Both man pages (docs/scan.1, docs/move.1) list them.
 */
#ifndef SCANMOVE_EXITCODE_H
#define SCANMOVE_EXITCODE_H

enum exitcode {
    EXITCODE_OK = 0,           /* everything done */
    EXITCODE_SOME_FAILED = 1,  /* ran to the end, but some files failed */
    EXITCODE_USAGE = 64,       /* bad flag or argument */
    EXITCODE_DATAERR = 65,     /* bad input data */
    EXITCODE_NOINPUT = 66,     /* a named directory or file does not exist */
    EXITCODE_UNAVAILABLE = 69, /* broker unreachable or lost */
    EXITCODE_SOFTWARE = 70,    /* internal error (a bug) */
    EXITCODE_CANTCREAT = 73,   /* cannot create in a destination (missing, read-only) */
    EXITCODE_IOERR = 74,       /* local I/O error */
    EXITCODE_TEMPFAIL = 75,    /* temporary failure, try again later */
    EXITCODE_NOPERM = 77,      /* authentication failed or access refused */
    EXITCODE_CONFIG = 78       /* configuration error or topology mismatch */
};

#endif
