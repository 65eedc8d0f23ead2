/*
 * io/textbuf.h: a growing NUL-terminated text buffer for renderers.
 *
 * The Prometheus exposition, the status page and the progress line are built
 * by appending small formatted pieces; this is the one buffer they share.
 *
 * Invariants: data is NULL or holds len bytes plus a NUL at data[len];
 * len < cap. An allocation failure is sticky: `failed` is set, later appends
 * do nothing, and the caller checks once at the end (io_tb_ok). So renderers
 * need no error check per line and can never write past the buffer.
 *
 * Ownership: the buffer owns data until io_tb_detach() hands it to the caller
 * (to free() later); io_tb_release() frees it.
 */
#ifndef STATECAST_IO_TEXTBUF_H
#define STATECAST_IO_TEXTBUF_H

#include <stddef.h>

typedef struct io_tb {
	char *data;
	size_t len;
	size_t cap;
	int failed; /* an allocation failed: contents are truncated */
} io_tb;

void io_tb_init(io_tb *b);
void io_tb_release(io_tb *b);
/* Empties the buffer, keeps its memory and clears `failed`. */
void io_tb_reset(io_tb *b);

void io_tb_putn(io_tb *b, const char *s, size_t n);
void io_tb_puts(io_tb *b, const char *s);
void io_tb_putc(io_tb *b, char c);
void io_tb_printf(io_tb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A double in the shortest form that reads back to the same value ("0.1",
 * not "0.10000000000000001"), "NaN", "+Inf" or "-Inf": the spellings both
 * Prometheus and JSON-minded readers accept (JSON callers must avoid the
 * three non-finite ones themselves).
 */
void io_tb_double(io_tb *b, double v);
/* The same into a caller's buffer of IO_FMT_MAX bytes. */
#define IO_FMT_MAX 32
void io_fmt_double(char out[IO_FMT_MAX], double v);
void io_fmt_float(char out[IO_FMT_MAX], float v);

/* The same for a float: the shortest text that reads back to the same
 * float, so the quantile level 0.1f prints as "0.1". */
void io_tb_float(io_tb *b, float v);

/*
 * The length (1..4) of the valid UTF-8 sequence starting at s[0], or 0 when
 * s[0] does not start one (stray continuation, overlong form, surrogate,
 * above U+10FFFF, or cut short by n). Renderers copy valid sequences and
 * replace each bad byte by U+FFFD, so any series name renders as valid text.
 */
size_t io_utf8_len(const unsigned char *s, size_t n);
#define IO_UTF8_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/*
 * Appends s with each ASCII byte c for which esc(c) is not NULL replaced by
 * that string, and each byte that does not start valid UTF-8 replaced by
 * U+FFFD: the common core of HTML and Prometheus label escaping.
 */
void io_tb_escape(io_tb *b, const char *s, const char *(*esc)(unsigned char));

/* 1 when nothing was lost to an allocation failure. */
int io_tb_ok(const io_tb *b);

/* Hands the NUL-terminated text to the caller (free() it) and leaves the
 * buffer empty; *len receives its length. NULL when failed (the text is
 * freed) or when nothing was ever written and allocation fails. */
char *io_tb_detach(io_tb *b, size_t *len);

#endif
