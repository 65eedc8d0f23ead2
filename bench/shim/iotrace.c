/*
 * bench/shim/iotrace.c: an LD_PRELOAD shim for bench/walpages.sh. It logs the
 * store writer's pwrite64, pread64, fdatasync and fsync calls on the
 * database file and its WAL (files named db or *.db, and *-wal) to the
 * file named by STATECAST_IOTRACE, one 24-byte record each: op (1 pwrite,
 * 2 pread, 3 sync), file (0 database, 1 WAL), length, offset, and for a
 * 24-byte WAL write (a frame header, which SQLite writes apart from its
 * page) the header's first two words: page number and, for a commit's
 * last frame, the database size. bench/wal_account.py maps those pages
 * to b-trees. Only the thread named store-writer is logged: readers and
 * the restore are not the steady-state cost.
 *
 *   cc -O2 -shared -fPIC -o iotrace.so bench/shim/iotrace.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

typedef struct rec {
	uint8_t op, file;
	uint16_t pad;
	uint32_t len;
	uint64_t off;
	uint32_t w0, w1;
} rec;

#define NBUF 65536
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static rec buf[NBUF];
static int nbuf, out = -1;
static __thread int is_writer = -1;

/* 0 the database, 1 its WAL, -1 anything else. */
static int classify(int fd)
{
	char p[64], t[512];
	ssize_t n;

	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	n = readlink(p, t, sizeof t - 1);
	if (n <= 0)
		return -1;
	t[n] = 0;
	if (n > 4 && !strcmp(t + n - 4, "-wal"))
		return 1;
	if (n > 3 && (!strcmp(t + n - 3, "/db") || !strcmp(t + n - 3, ".db")))
		return 0;
	return -1;
}

static void flush_locked(void)
{
	const char *f;

	if (out < 0 && (f = getenv("STATECAST_IOTRACE")) != NULL)
		out = open(f, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (out >= 0 && nbuf && write(out, buf, sizeof(rec) * (size_t)nbuf) < 0)
		perror("iotrace: write");
	nbuf = 0;
}

__attribute__((destructor)) static void fin(void)
{
	pthread_mutex_lock(&mu);
	flush_locked();
	pthread_mutex_unlock(&mu);
}

static int writer(void)
{
	char name[17] = {0};

	if (is_writer < 0) {
		prctl(PR_GET_NAME, name);
		/* Named after it starts: ask until it is. */
		if (!strcmp(name, "store-writer"))
			is_writer = 1;
	}
	return is_writer == 1;
}

static void logit(int op, int fd, uint64_t off, size_t len, const void *b)
{
	rec r;
	int f;

	if (!writer() || (f = classify(fd)) < 0)
		return;
	memset(&r, 0, sizeof r);
	r.op = (uint8_t)op;
	r.file = (uint8_t)f;
	r.len = (uint32_t)len;
	r.off = off;
	if (op == 1 && f == 1 && len == 24) {
		const uint8_t *u = b;
		r.w0 = (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
		       (uint32_t)u[2] << 8 | u[3];
		r.w1 = (uint32_t)u[4] << 24 | (uint32_t)u[5] << 16 |
		       (uint32_t)u[6] << 8 | u[7];
	}
	pthread_mutex_lock(&mu);
	buf[nbuf++] = r;
	if (nbuf == NBUF)
		flush_locked();
	pthread_mutex_unlock(&mu);
}

ssize_t pwrite64(int fd, const void *b, size_t n, off_t o)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "pwrite64");
	logit(1, fd, (uint64_t)o, n, b);
	return real(fd, b, n, o);
}

ssize_t pread64(int fd, void *b, size_t n, off_t o)
{
	static ssize_t (*real)(int, void *, size_t, off_t);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "pread64");
	logit(2, fd, (uint64_t)o, n, NULL);
	return real(fd, b, n, o);
}

int fdatasync(int fd)
{
	static int (*real)(int);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "fdatasync");
	logit(3, fd, 0, 0, NULL);
	return real(fd);
}

int fsync(int fd)
{
	static int (*real)(int);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "fsync");
	logit(3, fd, 0, 0, NULL);
	return real(fd);
}
