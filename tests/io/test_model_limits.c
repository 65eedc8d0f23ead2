/*
 * tests/io/test_model_limits.c: the model-file loader refuses msgpack
 * container-count bombs before msgpack-c allocates for them (found by
 * tests/fuzz/fuzz_model: 22 bytes made msgpack-c ask for 128 GiB), and a
 * truncated bomb is refused the same way.
 */
#include <string.h>
#include <sys/resource.h>

#include "io/model_file.h"
#include "tests/harness.h"

static void test_header_bomb(void)
{
	static const char bomb[] =
	    "\x94\xafstatecast-model\xdd\xff\xff\xff\xff";
	static const char map_bomb[] = "\x94\xafstatecast-model\xdf\x7f\xff\xff"
				       "\xff";
	ssm_model *m = NULL;
	char msg[200];
	struct rusage r0, r1;

	getrusage(RUSAGE_SELF, &r0);
	CHECK_EQ_INT(
	    io_model_load_mem(bomb, sizeof(bomb) - 1, &m, msg, sizeof(msg)),
	    IO_MF_EFORMAT);
	CHECK(strstr(msg, "declare too much") != NULL);
	CHECK_EQ_INT(io_model_load_mem(map_bomb, sizeof(map_bomb) - 1, &m, msg,
				       sizeof(msg)),
		     IO_MF_EFORMAT);
	getrusage(RUSAGE_SELF, &r1);
	CHECK(m == NULL);
	CHECK(r1.ru_maxrss - r0.ru_maxrss < 64 * 1024); /* KiB */
}

int main(void)
{
	TH_RUN(test_header_bomb);
	return th_summary();
}
