/* io/wake.c: see wake.h. */
#include "io/wake.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void on_readable(uv_poll_t *h, int status, int events)
{
	io_wake *w = h->data;
	uint64_t n;

	(void)status;
	(void)events;
	/* Resets the counter; a write after this read wakes us again. */
	while (read(w->fd, &n, sizeof n) < 0 && errno == EINTR)
		;
	w->cb(w);
}

int io_wake_open(io_wake *w, uv_loop_t *loop, io_wake_cb cb)
{
	int rc;

	w->cb = cb;
	w->closed = NULL;
	w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	if ((rc = uv_poll_init(loop, &w->poll, w->fd)) != 0) {
		close(w->fd);
		w->fd = -1;
		return rc;
	}
	w->poll.data = w;
	/* Failed here, the handle exists: w->fd stays set, the caller
	 * closes it (wake.h). */
	return uv_poll_start(&w->poll, UV_READABLE, on_readable);
}

void io_wake_send(io_wake *w)
{
	uint64_t one = 1;

	/* Fails only with EINTR, or EAGAIN on a counter near 2^64 (which
	 * wakes the loop all the same). */
	while (write(w->fd, &one, sizeof one) < 0 && errno == EINTR)
		;
}

static void on_closed(uv_handle_t *h)
{
	io_wake *w = h->data;

	close(w->fd);
	w->fd = -1;
	if (w->closed)
		w->closed(w);
}

void io_wake_close(io_wake *w, io_wake_cb closed)
{
	w->closed = closed;
	uv_close((uv_handle_t *)&w->poll, on_closed);
}
