/*
 * io/progress.h: progress of long work (training, evaluation, restoring many
 * series at start, benchmarks), for people and for supervisors.
 *
 * On a terminal it redraws one bar line in place (\r), at most 10 times a
 * second; otherwise (a log file, journald, CI) it writes a plain line at
 * most every `interval_s` seconds (default 5), so logs stay readable. Either
 * way the final io_progress_done() writes one closing line with the total
 * time. An optional sink receives the same text without decoration at the
 * plain-line rate: statecastd passes one that sends systemd "STATUS=...".
 *
 *   io_progress p;
 *   io_progress_init(&p, stderr, "train", n_steps);
 *   for (i = 0; i < n_steps; i++) {
 *           ... work ...
 *           io_progress_detail(&p, "loss %.4f", loss);   (optional)
 *           io_progress_update(&p, i + 1);
 *   }
 *   io_progress_done(&p);
 *
 * Cost: io_progress_update() reads the clock and returns unless a line is
 * due, so calling it once per item is fine at millions of items per second
 * (one clock_gettime each). Single-threaded: one owner calls all of these.
 * No allocation; text is truncated to the fixed line size.
 */
#ifndef STATECAST_IO_PROGRESS_H
#define STATECAST_IO_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

enum io_progress_mode {
	IO_PROGRESS_AUTO = 0,  /* BAR when `out` is a terminal, else LINES */
	IO_PROGRESS_BAR = 1,   /* redraw one line in place */
	IO_PROGRESS_LINES = 2, /* one plain line per interval */
	IO_PROGRESS_QUIET = 3, /* nothing on `out` (the sink still runs) */
};

typedef struct io_progress {
	FILE *out;	   /* may be NULL: same as QUIET */
	char what[48];	   /* what is being done: "train", "restore" */
	uint64_t total;	   /* items to do, 0 = unknown */
	uint64_t done;	   /* items done so far */
	int mode;	   /* enum io_progress_mode, resolved by init */
	double interval_s; /* seconds between plain lines (and sink calls) */
	/* Called with each plain line's text (no newline) and the last one.
	 * Runs on the caller's thread; must not call back into this. */
	void (*sink)(void *arg, const char *text);
	void *sink_arg;
	/* The clock, seconds on any monotonic origin; tests replace it. */
	double (*now)(void);

	/* internal */
	double t0, t_line, t_bar;
	char detail[80];
	int bar_shown; /* a bar line is on screen without its newline */
} io_progress;

/* what: copied (truncated to 47 bytes). total: 0 when unknown. */
void io_progress_init(io_progress *p, FILE *out, const char *what,
		      uint64_t total);
/* Forces a mode instead of AUTO's choice (e.g. from a --progress flag). */
void io_progress_set_mode(io_progress *p, int mode);
/* Free text shown after the counts, e.g. the current loss. */
void io_progress_detail(io_progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* done: items finished so far (monotone; a smaller value is taken as is). */
void io_progress_update(io_progress *p, uint64_t done);
/* Writes the closing line ("what: done N in 12.3 s (812/s)"). */
void io_progress_done(io_progress *p);

/* The text of the current state without decoration, as the sink gets it:
 * "train: 4500/10000 (45%), 812/s, eta 7s, loss 0.1234". */
void io_progress_format(const io_progress *p, char *buf, size_t size);

#endif
