/*
 * tests/io/test_model_file.c: model file round trip, and one test per way a
 * file can be wrong, each with its own error code.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/model_file.h"
#include "ssm/rng.h"
#include "tests/harness.h"

/* A model whose every tensor holds distinct random values. */
static ssm_model *filled_model(void)
{
	ssm_model *m = NULL;
	ssm_rng r;
	int i;
	size_t j;

	CHECK_EQ_INT(ssm_model_new_default(&m, 7), 0);
	ssm_rng_init(&r, 99);
	for (i = 0; i < ssm_model_ntensors(m); i++) {
		const ssm_tensor *t = ssm_model_tensor(m, i);
		for (j = 0; j < t->n; j++)
			t->data[j] = (float)ssm_rng_normal(&r);
	}
	CHECK_EQ_INT(ssm_model_refresh(m), 0);
	return m;
}

static int same_weights(const ssm_model *a, const ssm_model *b)
{
	int i;

	if (ssm_model_ntensors(a) != ssm_model_ntensors(b))
		return 0;
	for (i = 0; i < ssm_model_ntensors(a); i++) {
		const ssm_tensor *x = ssm_model_tensor(a, i),
				 *y = ssm_model_tensor(b, i);
		if (strcmp(x->name, y->name) || x->n != y->n ||
		    memcmp(x->data, y->data, x->n * sizeof(float)))
			return 0;
	}
	return 1;
}

static void test_round_trip_file(void)
{
	ssm_model *m = filled_model(), *l = NULL;
	char path[] = "/tmp/statecast-model-XXXXXX";
	char msg[200];
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ_INT(io_model_save(m, path), 0);
	CHECK_EQ_INT(io_model_load(path, &l, msg, sizeof msg), 0);
	CHECK(l != NULL);
	if (l) {
		CHECK(same_weights(m, l));
		CHECK(ssm_model_hash(m) == ssm_model_hash(l));
		CHECK(!memcmp(ssm_model_get_arch(m), ssm_model_get_arch(l),
			      sizeof(ssm_model_arch)));
		CHECK_EQ_INT(ssm_model_state_floats(m),
			     ssm_model_state_floats(l));
	}
	unlink(path);
	ssm_model_free(m);
	ssm_model_free(l);
}

static void test_missing_file(void)
{
	ssm_model *l = NULL;
	char msg[200];

	CHECK_EQ_INT(io_model_load("/nonexistent/x.model", &l, msg, sizeof msg),
		     IO_MF_EIO);
	CHECK(strstr(msg, "/nonexistent/x.model") != NULL);
	CHECK(l == NULL);
}

/* Every cut of the file, including the empty file, is "truncated". */
static void test_truncated(void)
{
	ssm_model *m = filled_model(), *l = NULL;
	void *buf;
	size_t len, cut, bad = 0;

	CHECK_EQ_INT(io_model_save_mem(m, &buf, &len), 0);
	for (cut = 0; cut < len; cut += 1 + cut / 8)
		if (io_model_load_mem(buf, cut, &l, NULL, 0) != IO_MF_ETRUNC)
			bad++;
	CHECK_EQ_INT(bad, 0);
	CHECK(l == NULL);
	free(buf);
	ssm_model_free(m);
}

static void test_wrong_magic(void)
{
	ssm_model *m = filled_model(), *l = NULL;
	unsigned char *buf;
	void *vb;
	size_t len;
	char msg[200];
	static const char zip[] = "PK\x03\x04 not ours";

	CHECK_EQ_INT(io_model_save_mem(m, &vb, &len), 0);
	buf = vb;
	buf[5] ^= 0x20; /* a letter of the magic */
	CHECK_EQ_INT(io_model_load_mem(buf, len, &l, msg, sizeof msg),
		     IO_MF_EMAGIC);
	CHECK_EQ_INT(io_model_load_mem(zip, sizeof zip - 1, &l, NULL, 0),
		     IO_MF_EMAGIC);
	CHECK(strlen(msg) > 0);
	free(buf);
	ssm_model_free(m);
}

static void test_wrong_version(void)
{
	ssm_model *m = filled_model(), *l = NULL;
	void *buf;
	size_t len;
	char msg[200];

	CHECK_EQ_INT(io__model_encode(m, ssm_model_get_arch(m), 2, &buf, &len),
		     0);
	CHECK_EQ_INT(io_model_load_mem(buf, len, &l, msg, sizeof msg),
		     IO_MF_EVERSION);
	CHECK(strstr(msg, "version 2") != NULL);
	free(buf);
	ssm_model_free(m);
}

static void test_bad_checksum(void)
{
	ssm_model *m = filled_model(), *l = NULL;
	unsigned char *buf;
	void *vb;
	size_t len;

	CHECK_EQ_INT(io_model_save_mem(m, &vb, &len), 0);
	buf = vb;
	buf[len - 3] ^= 0x01; /* one bit of the last weight */
	CHECK_EQ_INT(io_model_load_mem(buf, len, &l, NULL, 0), IO_MF_ECHECKSUM);
	free(buf);
	ssm_model_free(m);
}

static void test_shape_mismatch(void)
{
	ssm_model *m = filled_model(), *l = NULL;
	ssm_model_arch a = *ssm_model_get_arch(m);
	void *buf;
	size_t len;
	char msg[200];

	a.d_model = 8; /* the tensors stay d_model 16 */
	CHECK_EQ_INT(io__model_encode(m, &a, IO_MODEL_VERSION, &buf, &len), 0);
	CHECK_EQ_INT(io_model_load_mem(buf, len, &l, msg, sizeof msg),
		     IO_MF_ESHAPE);
	CHECK(strstr(msg, "enc.w") != NULL);
	free(buf);
	ssm_model_free(m);
}

static void test_nonfinite_weight(void)
{
	ssm_model *m = filled_model(), *l = NULL;
	void *buf;
	size_t len;

	ssm_model_tensor_by_name(m, "head.w")->data[3] = NAN;
	CHECK_EQ_INT(io_model_save_mem(m, &buf, &len), IO_MF_ENONFINITE);
	CHECK_EQ_INT(io__model_encode(m, ssm_model_get_arch(m),
				      IO_MODEL_VERSION, &buf, &len),
		     0);
	CHECK_EQ_INT(io_model_load_mem(buf, len, &l, NULL, 0),
		     IO_MF_ENONFINITE);
	free(buf);
	ssm_model_free(m);
}

static void test_trailing_bytes(void)
{
	ssm_model *m = filled_model(), *l = NULL;
	void *buf;
	char *big;
	size_t len;

	CHECK_EQ_INT(io_model_save_mem(m, &buf, &len), 0);
	big = malloc(len + 1);
	memcpy(big, buf, len);
	big[len] = 0;
	CHECK_EQ_INT(io_model_load_mem(big, len + 1, &l, NULL, 0),
		     IO_MF_EFORMAT);
	free(big);
	free(buf);
	ssm_model_free(m);
}

int main(void)
{
	TH_RUN(test_round_trip_file);
	TH_RUN(test_missing_file);
	TH_RUN(test_truncated);
	TH_RUN(test_wrong_magic);
	TH_RUN(test_wrong_version);
	TH_RUN(test_bad_checksum);
	TH_RUN(test_shape_mismatch);
	TH_RUN(test_nonfinite_weight);
	TH_RUN(test_trailing_bytes);
	return th_summary();
}
