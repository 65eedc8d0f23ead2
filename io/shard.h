/*
 * io/shard.h: which statecastd instance owns a series, computed exactly as
 * carbon-c-relay's `jump_fnv1a_ch` cluster places a metric.
 *
 * The rule (carbon-c-relay 3.x, consistent-hash.c and fnv1a.h, and the
 * Debian 12 relay 3.7.3 observed routing real traffic):
 * - key: the metric name as the relay forwards it, without its Graphite
 *   tags: the relay first rewrites the name (characters outside
 *   [A-Za-z0-9] and its -c set, by default "-_:#", become '_'; repeated
 *   dots collapse), then hashes it up to the first ';' or space. So every
 *   tagged variant of a name lives on one shard, and the daemon receives
 *   exactly the rewritten name: the name a user queries is the name to
 *   hash. (The relay's test mode, -t, hashes the name with its tags and
 *   before the rewrite; it is not what the relay does with traffic.)
 * - hash: 64-bit FNV-1a (offset 14695981039346656037, prime 1099511628211),
 *   with one quirk kept on purpose: the relay walks the name with a plain
 *   `char *`, and where char is signed (x86-64, the Debian amd64 package) a
 *   byte >= 0x80 is XORed sign-extended to 64 bits (0xffffffffffffff00 | b).
 *   This was checked against carbon-c-relay 3.7.3 (Debian 12) in test mode
 *   (-t): the 32-bit extension its fnv1a.h suggests places UTF-8 names
 *   elsewhere. It matters only when such bytes reach the hash (test mode,
 *   or a -c set that lets them through); by default the rewrite above
 *   turns them into '_' first. io_shard_fnv1a64() does the same on every
 *   platform.
 * - bucket: jump consistent hash (Lamping and Veach 2014) of that hash over
 *   the number of servers, computed in double precision as the relay does.
 * - bucket order: servers with an instance name (`host:port=NAME`) sorted
 *   by name, numerically when both names are decimal numbers, else by
 *   strcmp; servers without a name would follow in file order, but
 *   statecast requires every shard to be named ("pinned"), because only
 *   then does a shard keep its series when addresses change. A file mixing
 *   numeric and non-numeric names is refused: the relay's comparison is not
 *   a total order then, and the placement would depend on its qsort.
 * - replication 1: a series lives on exactly one shard.
 *
 * Shards file (statecast --shards FILE), one shard per line:
 *     HOST:PORT=NAME [rpc=HOST:PORT]
 * HOST:PORT=NAME is copied from the relay's cluster block (Graphite port);
 * rpc= gives the msgpack-RPC address the CLI queries (default: same host,
 * port 7411). IPv6 hosts in brackets ([::1]:2003=a). Blank lines and lines
 * starting with # are ignored.
 *
 * Errors: 0 or a negative IO_SHARD_E*; io_shard_strerror() describes them,
 * and the parser writes "FILE:LINE: what was expected" into err.
 */
#ifndef STATECAST_IO_SHARD_H
#define STATECAST_IO_SHARD_H

#include <stddef.h>
#include <stdint.h>

#define IO_SHARD_MAX	  1024 /* carbon-c-relay's CONN_DESTS_SIZE is 64+ */
#define IO_SHARD_RPC_PORT 7411

enum {
	IO_SHARD_ESYNTAX = -1, /* a line is not HOST:PORT=NAME [rpc=..] */
	IO_SHARD_EDUP = -2,    /* two shards share a name */
	IO_SHARD_EMIXED = -3,  /* numeric and non-numeric names together */
	IO_SHARD_EEMPTY = -4,  /* no shard at all */
	IO_SHARD_ETOOMANY = -5,
	IO_SHARD_EIO = -6, /* the file cannot be read (errno kept) */
	IO_SHARD_ENOMEM = -7,
};

typedef struct io_shard {
	char name[64];	/* pinned instance name */
	char host[256]; /* Graphite (relay destination) host, no brackets */
	uint16_t port;	/* Graphite port */
	char rpc_host[256];
	uint16_t rpc_port;
	int line; /* where it was defined, for messages */
} io_shard;

/* Shards in bucket order (bucket i is shards[i]). */
typedef struct io_shard_map {
	int n;
	io_shard *shards;
} io_shard_map;

/* The relay's hash of a key of len bytes (see the quirk above). */
uint64_t io_shard_fnv1a64(const char *key, size_t len);

/* Jump consistent hash: a bucket in [0, buckets); buckets >= 1. */
uint32_t io_shard_jump(uint64_t hash, uint32_t buckets);

/*
 * Parses shards-file text (NUL-terminated) into m (caller's struct, its
 * contents allocated here; io_shard_map_release() frees them). `file`
 * names the source in messages. On error m is left empty.
 */
int io_shard_map_parse(io_shard_map *m, const char *text, const char *file,
		       char *err, size_t errlen);
int io_shard_map_load(io_shard_map *m, const char *path, char *err,
		      size_t errlen);
void io_shard_map_release(io_shard_map *m);

/* Index of the shard owning series key[0..len) (tags, from the first ';',
 * ignored), in [0, m->n); m->n >= 1. */
int io_shard_owner(const io_shard_map *m, const char *key, size_t len);

/* "host:port" or "[v6]:port" of the shard's RPC listener into out. */
void io_shard_rpc_addr(const io_shard *s, char *out, size_t cap);

const char *io_shard_strerror(int err);

#endif
