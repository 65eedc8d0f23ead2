/*
 * daemon/sdnotify.c: see sdnotify.h. A thin layer over sd-daemon(3): what it
 * adds is the mapping to libuv (watchdog timer, adopting descriptors) and
 * the rule that "not under systemd" is never an error.
 */
#include "daemon/sdnotify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

/* sd_notify returns > 0 sent, 0 no NOTIFY_SOCKET, < 0 -errno. */
static int notify_result(int r)
{
	return r < 0 ? r : 0;
}

int srv_sd_ready(const char *status)
{
	if (status)
		return notify_result(
		    sd_notifyf(0, "READY=1\nSTATUS=%s", status));
	return notify_result(sd_notify(0, "READY=1"));
}

int srv_sd_status(uint64_t extend_usec, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* A newline would start a new assignment in the datagram. */
	for (char *p = text; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (extend_usec > 0)
		r = sd_notifyf(0, "STATUS=%s\nEXTEND_TIMEOUT_USEC=%llu", text,
			       (unsigned long long)extend_usec);
	else
		r = sd_notifyf(0, "STATUS=%s", text);
	return notify_result(r);
}

int srv_sd_reloading(void)
{
	return notify_result(sd_notify(0, "RELOADING=1"));
}

int srv_sd_stopping(void)
{
	return notify_result(sd_notify(0, "STOPPING=1"));
}

static void watchdog_cb(uv_timer_t *t)
{
	srv_sd_watchdog *wd = t->data;

	if (sd_notify(0, "WATCHDOG=1") > 0)
		wd->pings++;
}

int srv_sd_watchdog_start(srv_sd_watchdog *wd, uv_loop_t *loop)
{
	uint64_t usec = 0, half_ms;
	int r;

	memset(wd, 0, sizeof(*wd));
	/* Keep WATCHDOG_USEC in the environment: a re-exec keeps the watchdog.
	 */
	r = sd_watchdog_enabled(0, &usec);
	if (r <= 0)
		return r; /* 0: not requested; < 0: malformed variables */
	wd->period_usec = usec;
	/* Half the period, as sd_watchdog_enabled(3) recommends; >= 1 ms. */
	half_ms = usec / 2000;
	if (half_ms == 0)
		half_ms = 1;
	r = uv_timer_init(loop, &wd->timer);
	if (r < 0)
		return r;
	wd->timer.data = wd;
	/* The first ping goes out at once: startup itself may have been slow.
	 */
	r = uv_timer_start(&wd->timer, watchdog_cb, 0, half_ms);
	if (r < 0) {
		uv_close((uv_handle_t *)&wd->timer, NULL);
		return r;
	}
	uv_unref((uv_handle_t *)&wd->timer);
	wd->active = 1;
	return 1;
}

void srv_sd_watchdog_close(srv_sd_watchdog *wd, uv_close_cb cb)
{
	if (!wd->active)
		return;
	wd->active = 0;
	uv_timer_stop(&wd->timer);
	uv_close((uv_handle_t *)&wd->timer, cb);
}

int srv_sd_listen_init(srv_sd_listen *l)
{
	char **names = NULL;
	int n, i;

	memset(l, 0, sizeof(*l));
	n = sd_listen_fds_with_names(1, &names);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		const char *nm = names && names[i] ? names[i] : "unknown";

		if (i < SRV_SD_MAX_FDS) {
			l->fds[i] = fd;
			snprintf(l->names[i], sizeof(l->names[i]), "%s", nm);
		} else {
			close(fd); /* more than any unit of ours passes */
		}
		if (names)
			free(names[i]);
	}
	free(names);
	l->n = n < SRV_SD_MAX_FDS ? n : SRV_SD_MAX_FDS;
	return 0;
}

int srv_sd_listen_take(srv_sd_listen *l, const char *name)
{
	for (int i = 0; i < l->n; i++) {
		if (l->fds[i] >= 0 && strcmp(l->names[i], name) == 0) {
			int fd = l->fds[i];

			l->fds[i] = -1;
			return fd;
		}
	}
	return -ENOENT;
}

int srv_sd_listen_release(srv_sd_listen *l)
{
	int left = 0;

	for (int i = 0; i < l->n; i++) {
		if (l->fds[i] >= 0) {
			close(l->fds[i]);
			l->fds[i] = -1;
			left++;
		}
	}
	return left;
}

/*
 * Takes the descriptor, checks it is a listening stream socket of the family
 * the handle expects (tcp: 1, unix: 0), then hands it to libuv.
 */
static int adopt(srv_sd_listen *l, const char *name, int tcp, uv_handle_t *h)
{
	int fd = srv_sd_listen_take(l, name);
	int ok, r;

	if (fd < 0)
		return fd;
	ok = tcp ? sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0)
		 : sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0);
	if (ok <= 0) {
		close(fd);
		return -ENOTSOCK;
	}
	r = tcp ? uv_tcp_open((uv_tcp_t *)h, fd)
		: uv_pipe_open((uv_pipe_t *)h, fd);
	if (r < 0)
		close(fd);
	return r;
}

int srv_sd_adopt_tcp(srv_sd_listen *l, const char *name, uv_tcp_t *h)
{
	return adopt(l, name, 1, (uv_handle_t *)h);
}

int srv_sd_adopt_pipe(srv_sd_listen *l, const char *name, uv_pipe_t *h)
{
	return adopt(l, name, 0, (uv_handle_t *)h);
}

const char *srv_sd_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -ENOENT:
		return "no socket with that name was passed by the manager";
	case -ENOTSOCK:
		return "passed descriptor is not a listening stream socket of "
		       "the expected family";
	default:
		return err < 0 ? uv_strerror(err) : "unknown error";
	}
}
