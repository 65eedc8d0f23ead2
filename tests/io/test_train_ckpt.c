/*
 * tests/io/test_train_ckpt.c: a run interrupted by a checkpoint and resumed
 * from it ends bit for bit where the uninterrupted run does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/model_file.h"
#include "io/train_ckpt.h"
#include "tests/harness.h"

static void small_cfg(ssm_train_cfg *c)
{
	ssm_train_default_cfg(c);
	c->batch = 8;
	c->chunk = 16;
	c->steps = 8;
	c->warmup = 2;
	c->min_len = 40;
	c->max_len = 90;
	c->seed = 17;
}

static ssm_model *small_model(void)
{
	ssm_model_arch a;
	ssm_model *m = NULL;

	ssm_model_default_arch(&a);
	a.horizon = 6;
	a.d_model = 8;
	a.max_period = 24;
	a.nlayers = 1;
	a.layer[0].n_state = 4;
	CHECK_EQ_INT(ssm_model_new(&m, &a), 0);
	CHECK_EQ_INT(ssm_model_init_weights(m, 3), 0);
	return m;
}

static void test_resume_is_bit_exact(void)
{
	char path[] = "/tmp/statecast-ckpt-XXXXXX", msg[256] = "";
	ssm_train_cfg c, c2;
	ssm_model *a = small_model(), *b = NULL;
	ssm_trainer *ta = NULL, *tb = NULL;
	void *blob = NULL;
	size_t len = 0;
	double l;
	uint64_t straight;
	int s, fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	small_cfg(&c);
	CHECK_EQ_INT(ssm_trainer_new(&ta, a, &c, NULL, 0), 0);
	for (s = 0; s < 4; s++)
		ssm_trainer_step(ta, &l, NULL);
	CHECK_EQ_INT(io_ckpt_save(path, ta, a, &c), 0);
	for (; s < 8; s++)
		ssm_trainer_step(ta, &l, NULL);
	straight = ssm_model_hash(a);

	CHECK_EQ_INT(io_ckpt_load(path, &b, &c2, &blob, &len, msg, sizeof msg),
		     0);
	CHECK(!memcmp(&c, &c2, sizeof c));
	CHECK_EQ_INT(ssm_trainer_new(&tb, b, &c2, NULL, 0), 0);
	CHECK_EQ_INT(io_ckpt_restore(blob, len, tb, msg, sizeof msg), 0);
	CHECK_EQ_INT(ssm_trainer_steps_done(tb), 4);
	for (s = 4; s < 8; s++)
		ssm_trainer_step(tb, &l, NULL);
	CHECK(ssm_model_hash(b) == straight);
	CHECK(ssm_model_hash(b) != 0);

	free(blob);
	unlink(path);
	ssm_trainer_free(ta);
	ssm_trainer_free(tb);
	ssm_model_free(a);
	ssm_model_free(b);
}

static void test_not_a_checkpoint(void)
{
	char path[] = "/tmp/statecast-ckpt-XXXXXX", msg[256];
	ssm_train_cfg c;
	ssm_model *m = NULL;
	void *blob = NULL;
	size_t len;
	int fd = mkstemp(path);

	CHECK(write(fd, "hello", 5) == 5);
	close(fd);
	CHECK(io_ckpt_load(path, &m, &c, &blob, &len, msg, sizeof msg) != 0);
	CHECK(m == NULL);
	unlink(path);
}

int main(void)
{
	TH_RUN(test_resume_is_bit_exact);
	TH_RUN(test_not_a_checkpoint);
	return th_summary();
}
