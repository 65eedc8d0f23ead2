/*
 * tests/io/test_shard.c: io/shard against placements printed by the Debian
 * carbon-c-relay 3.7.3 in test mode (`carbon-c-relay -f CONF -t`), FNV-1a
 * reference vectors, the jump hash's defining property, and the shards-file
 * parser's errors.
 */
#include "io/shard.h"
#include "tests/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int owner(const io_shard_map *m, const char *key)
{
	return io_shard_owner(m, key, strlen(key));
}

static const char *owner_name(const io_shard_map *m, const char *key)
{
	return m->shards[owner(m, key)].name;
}

static void test_fnv1a64_reference_vectors(void)
{
	/* Standard FNV-1a 64 (Noll's test vectors) for ASCII input. */
	CHECK(io_shard_fnv1a64("", 0) == 0xcbf29ce484222325ULL);
	CHECK(io_shard_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL);
	CHECK(io_shard_fnv1a64("foobar", 6) == 0x85944171f73967e8ULL);
	/* The relay's sign extension: 0xc3 is XORed as 0xff..ffc3. */
	CHECK(io_shard_fnv1a64("\xc3", 1) ==
	      ((0xcbf29ce484222325ULL ^ 0xffffffffffffffc3ULL) *
	       1099511628211ULL));
}

static void test_jump_moves_keys_only_to_the_new_bucket(void)
{
	int moved = 0, total = 20000;

	for (int i = 0; i < total; i++) {
		uint64_t h = io_shard_fnv1a64((const char *)&i, sizeof(i));
		uint32_t a = io_shard_jump(h, 7), b = io_shard_jump(h, 8);

		CHECK(a < 7 && b < 8);
		if (a != b) {
			CHECK_EQ_INT(b, 7);
			moved++;
		}
	}
	/* About 1/8 move; a loose band so the check can only catch a
	 * broken hash, never a fluke. */
	CHECK(moved > total / 16 && moved < total / 4);
	CHECK_EQ_INT(io_shard_jump(12345, 1), 0);
}

static void test_placement_matches_carbon_c_relay(void)
{
	io_shard_map m;
	char err[256];
	/* Defined out of order: the relay sorts pinned names. */
	const char *conf = "127.0.0.1:20003=c\n"
			   "127.0.0.1:20001=a\n"
			   "127.0.0.1:20002=b\n";

	CHECK_EQ_INT(io_shard_map_parse(&m, conf, "t", err, sizeof(err)), 0);
	CHECK_EQ_INT(m.n, 3);
	CHECK(strcmp(m.shards[0].name, "a") == 0);
	CHECK(strcmp(owner_name(&m, "foo.bar"), "b") == 0);
	CHECK(strcmp(owner_name(&m, "cpu"), "c") == 0);
	CHECK(strcmp(owner_name(&m, "na\xc3\xafve.metric"), "a") == 0);
	CHECK(strcmp(owner_name(&m, "servers.web01.cpu.user"), "c") == 0);
	CHECK(strcmp(owner_name(&m, "a"), "c") == 0);
	/* Routing real traffic, the relay ignores tags (its -t mode does
	 * not): these were observed on the relay's outgoing connections. */
	CHECK(strcmp(owner_name(&m, "a.b;x=1"), "a") == 0);
	CHECK(strcmp(owner_name(&m, "a.b;x=2"), "a") == 0);
	CHECK(strcmp(owner_name(&m, "disk.used;dc=eu-2;host=db1901"), "b") ==
	      0);
	CHECK(strcmp(owner_name(&m, "zz;b=1;a=2"), "c") == 0);
	CHECK(owner(&m, "disk.used") == owner(&m, "disk.used;dc=eu-2"));
	io_shard_map_release(&m);
}

static void test_numeric_names_sort_as_numbers(void)
{
	io_shard_map m;
	char err[256];
	const char *conf = "127.0.0.1:20010=10\n"
			   "127.0.0.1:20009=9\n"
			   "# comment\n\n"
			   "127.0.0.1:20001=1\n"
			   "127.0.0.1:20002=2\n"
			   "127.0.0.1:20003=3\n";

	CHECK_EQ_INT(io_shard_map_parse(&m, conf, "t", err, sizeof(err)), 0);
	CHECK_EQ_INT(m.n, 5);
	CHECK(strcmp(m.shards[3].name, "9") == 0); /* not "10" < "9" */
	CHECK(strcmp(m.shards[4].name, "10") == 0);
	CHECK(strcmp(owner_name(&m, "foo.bar"), "2") == 0);
	CHECK(strcmp(owner_name(&m, "cpu"), "10") == 0);
	CHECK(strcmp(owner_name(&m, "na\xc3\xafve.metric"), "9") == 0);
	CHECK(strcmp(owner_name(&m, "a"), "3") == 0);
	io_shard_map_release(&m);
}

static void test_addresses(void)
{
	io_shard_map m;
	char err[256];
	const char *conf = "  [::1]:2003=x rpc=[::1]:7500\r\n"
			   "db1.example:2103=y\n";

	CHECK_EQ_INT(io_shard_map_parse(&m, conf, "t", err, sizeof(err)), 0);
	CHECK_EQ_INT(m.n, 2);
	CHECK(strcmp(m.shards[0].host, "::1") == 0);
	CHECK_EQ_INT(m.shards[0].port, 2003);
	CHECK(strcmp(m.shards[0].rpc_host, "::1") == 0);
	CHECK_EQ_INT(m.shards[0].rpc_port, 7500);
	CHECK(strcmp(m.shards[1].host, "db1.example") == 0);
	CHECK_EQ_INT(m.shards[1].port, 2103);
	CHECK(strcmp(m.shards[1].rpc_host, "db1.example") == 0);
	CHECK_EQ_INT(m.shards[1].rpc_port, IO_SHARD_RPC_PORT);
	CHECK_EQ_INT(m.shards[1].line, 2);
	io_shard_map_release(&m);
}

static void expect_error(const char *conf, int code, const char *needle)
{
	io_shard_map m;
	char err[256];
	int r = io_shard_map_parse(&m, conf, "shards.conf", err, sizeof(err));

	CHECK_EQ_INT(r, code);
	CHECK(m.n == 0 && m.shards == NULL);
	if (!strstr(err, needle))
		th_fail(__FILE__, __LINE__, "'%s' lacks '%s'", err, needle);
}

static void test_errors_name_file_and_line(void)
{
	expect_error("", IO_SHARD_EEMPTY, "no shard");
	expect_error("# only\n\n", IO_SHARD_EEMPTY, "no shard");
	expect_error("h:1=a\nh:2\n", IO_SHARD_ESYNTAX, "shards.conf:2:");
	expect_error("h:1=a\nh:0=b\n", IO_SHARD_ESYNTAX, ":2:");
	expect_error("h:70000=a\n", IO_SHARD_ESYNTAX, ":1:");
	expect_error("h:x1=a\n", IO_SHARD_ESYNTAX, "HOST:PORT=NAME");
	expect_error("[::1:5=a\n", IO_SHARD_ESYNTAX, ":1:");
	expect_error("h:1=\n", IO_SHARD_ESYNTAX, ":1:");
	expect_error("h:1=a proto=udp\n", IO_SHARD_ESYNTAX, "rpc=HOST:PORT");
	expect_error("h:1=a rpc=h\n", IO_SHARD_ESYNTAX, "rpc=HOST:PORT");
	expect_error("h:1=a\n\nh:2=a\n", IO_SHARD_EDUP,
		     ":3: instance name 'a'");
	expect_error("h:1=1\nh:2=01\n", IO_SHARD_EDUP, "already used");
	expect_error("h:1=1\nh:2=b\n", IO_SHARD_EMIXED, "all numbers");
	expect_error("h:1=2000000000\n", IO_SHARD_ESYNTAX, "out of range");
}

static void test_load_file(void)
{
	char path[] = "/tmp/sc-shards-XXXXXX";
	int fd = mkstemp(path);
	io_shard_map m;
	char err[256];
	FILE *f;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	for (int i = 0; i < 40; i++)
		fprintf(f, "127.0.0.1:%d=s%02d rpc=127.0.0.1:%d\n", 3000 + i, i,
			4000 + i);
	fclose(f);
	CHECK_EQ_INT(io_shard_map_load(&m, path, err, sizeof(err)), 0);
	CHECK_EQ_INT(m.n, 40);
	CHECK(strcmp(m.shards[39].name, "s39") == 0);
	CHECK_EQ_INT(m.shards[39].rpc_port, 4039);
	io_shard_map_release(&m);
	unlink(path);
	CHECK_EQ_INT(io_shard_map_load(&m, path, err, sizeof(err)),
		     IO_SHARD_EIO);
	CHECK(strstr(err, path) != NULL);
	CHECK(strcmp(io_shard_strerror(IO_SHARD_EMIXED), "unknown error") != 0);
}

int main(void)
{
	TH_RUN(test_fnv1a64_reference_vectors);
	TH_RUN(test_jump_moves_keys_only_to_the_new_bucket);
	TH_RUN(test_placement_matches_carbon_c_relay);
	TH_RUN(test_numeric_names_sort_as_numbers);
	TH_RUN(test_addresses);
	TH_RUN(test_errors_name_file_and_line);
	TH_RUN(test_load_file);
	return th_summary();
}
