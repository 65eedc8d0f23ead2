/*
 * tools/client.h: the CLI's msgpack-RPC client (one per process).
 *
 * Blocking and synchronous: a command encodes one request's params into
 * client_begin()'s buffer, client_call() sends it and returns the response,
 * handing any notification that arrives meanwhile to the caller's callback.
 * Framing and decoding are io/rpc.h's, the same code the daemon runs.
 *
 * Every query command shares the options parsed by client_options():
 *   --rpc HOST:PORT   (default 127.0.0.1:7411)
 *   --socket PATH     the daemon's unix socket instead
 *   $STATECAST_TOKEN  sent in an `auth` call first over TCP (rpc.token)
 *   --json            machine-readable output
 */
#ifndef STATECAST_TOOLS_CLIENT_H
#define STATECAST_TOOLS_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "io/rpc.h"

typedef struct client_opts {
	const char *rpc;    /* host:port */
	const char *socket; /* path, or NULL */
	const char *token;  /* $STATECAST_TOKEN: sent in `auth` over TCP */
	int json;
	const char *pos[8]; /* positional arguments */
	int npos;
} client_opts;

typedef struct client {
	int fd;
	char where[300]; /* what we connected to, for messages */
	uint32_t next_id;
	rpc_buf out;
	char *in; /* received bytes, at most one partial frame */
	size_t inlen, incap, skip;
	rpc_scan scan;
	rpc_limits lim;
	rpc_dec *dec;
	/* Optional, set after client_connect: reads the socket in place of
	 * recv(fd, buf, n, 0) with recv's contract (bench/loadgen.c stamps
	 * each read with the kernel's arrival time); NULL: recv(). */
	ssize_t (*recv_fn)(void *ctx, int fd, void *buf, size_t n);
	void *recv_ctx;
	/* Bytes received so far, and where the frame handed out last ended
	 * in that byte stream: the read that brought byte frame_end - 1
	 * completed it. */
	uint64_t rx_bytes, frame_end;
} client;

/*
 * Parses the shared options and up to 8 positional arguments; extra
 * options a command accepts are named in `extra` ("--count" etc., each
 * taking one value) and returned through extra_val in the same order.
 * Returns 0, or 2 after printing usage to stderr.
 */
int client_options(int argc, char **argv, const char *usage, client_opts *o,
		   const char *const *extra, const char **extra_val);

/* Connects as the options say; on failure prints why to stderr (naming
 * the address and suggesting --rpc/--socket) and returns -1. */
int client_connect(client *c, const client_opts *o);
void client_close(client *c);

/* Starts a request: returns the buffer to put exactly one params value. */
rpc_buf *client_begin(client *c, const char *method);

typedef void (*client_notify_fn)(void *ctx, const rpc_msg *m);

/*
 * Sends the request begun last and waits for its response in *resp (valid
 * until the next call). Returns 0 when a result came, 1 when the daemon
 * answered with an error (printed to stderr), -1 on a broken connection
 * (printed too).
 */
int client_call(client *c, rpc_msg *resp, client_notify_fn fn, void *ctx);

/* Waits for the next notification; 0, or -1 when the connection ends. */
int client_next(client *c, rpc_msg *m);

/* The value as JSON (floats round-trip: %.9g for float32 is not needed,
 * %.17g is exact for both). */
void client_print_json(FILE *f, const rpc_val *v);

/* Map lookups with defaults, for human-readable output. */
double client_num(const rpc_val *map, const char *key, double def);
/* A NUL-terminated copy of a string member in buf ("" when absent). */
const char *client_str(const rpc_val *map, const char *key, char *buf,
		       size_t cap);

#endif
