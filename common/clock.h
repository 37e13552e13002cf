/*
 * clock.h - the one clock the tools time things with.
 *
 * Timeouts, deadlines, rates and watchdogs are measured on CLOCK_MONOTONIC,
 * so a wall-clock step (NTP, an operator's date -s) never shortens or
 * stretches them.
 */
#ifndef SCANMOVE_CLOCK_H
#define SCANMOVE_CLOCK_H

/* mono_now - seconds on CLOCK_MONOTONIC, with nanosecond resolution. */
double mono_now(void);

/* mono_now_ms - whole milliseconds on CLOCK_MONOTONIC. */
long mono_now_ms(void);

/* mono_nap - sleep s seconds (s >= 0); a signal may end it early. */
void mono_nap(double s);

#endif
