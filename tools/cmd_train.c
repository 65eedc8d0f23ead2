/*
 * tools/cmd_train.c: `statecast train`, training a model in C (ssm/train.h)
 * on synthetic series (ssm/synth.h) and, optionally, on the training part
 * of an EVAL.md data directory: each series only up to its first origin
 * n - E, so the evaluation windows are never seen.
 *
 * Output: the model file (--out), checkpoints that resume bit for bit
 * (--checkpoint / --resume), progress as a bar on a terminal or a log line
 * every --log-every steps otherwise (stderr), and a summary on stdout.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io/model_file.h"
#include "io/train_ckpt.h"
#include "ssm/train.h"
#include "tools/cmd.h"
#include "tools/eval.h"
#include "tools/train_db.h"

int cmd_train(int argc, char **argv); /* the table in tools/main.c */

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: statecast train --out FILE.model [options]\n"
	    "  --steps N          optimizer steps (2000)\n"
	    "  --batch B          series per step, multiple of 8 (32)\n"
	    "  --chunk T          samples per series per step (64)\n"
	    "  --lr X             peak learning rate (2e-3)\n"
	    "  --warmup N         warm-up steps (100)\n"
	    "  --wd X             weight decay on matrices (0.01)\n"
	    "  --clip X           gradient-norm clip (1.0)\n"
	    "  --seed N           seed of data and initialisation (1)\n"
	    "  --data DIR         also train on DIR's series (EVAL.md\n"
	    "                     layout), each up to its first origin\n"
	    "  --from-db PATH     also train on the daemon's stored history\n"
	    "  --p-data X         share of series drawn from data (0.5)\n"
	    "  --max-len N        longest series or window (1024)\n"
	    "  --d-model D, --layers L, --n-state N, --horizon H,\n"
	    "  --max-period P     architecture of a new model\n"
	    "  --init FILE        start from this model instead\n"
	    "  --init-only        write the model untrained (or the\n"
	    "                     --init model as it is) and stop\n"
	    "  --gate 0|1         per-series gate of network vs front (1)\n"
	    "  --checkpoint FILE  write a checkpoint every --ckpt-every\n"
	    "                     steps (200) and at the end\n"
	    "  --resume FILE      continue from a checkpoint with its own\n"
	    "                     settings (give the same --data)\n"
	    "  --stop-after N     stop after step N (checkpoint, model)\n"
	    "  --log-every N      log line period when not on a terminal "
	    "(50)\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void progress(int tty, int s, int steps, double loss, double rate,
		     double eta)
{
	if (tty) {
		char bar[31];
		int i, k = steps ? (int)(30.0 * s / steps) : 30;

		for (i = 0; i < 30; i++)
			bar[i] = i < k ? '=' : (i == k ? '>' : ' ');
		bar[30] = 0;
		fprintf(stderr,
			"\r[%s] %d/%d loss %.4f %.1f series/s ETA %dm%02ds ",
			bar, s, steps, loss, rate, (int)eta / 60,
			(int)eta % 60);
	} else {
		fprintf(stderr,
			"train: step %d/%d loss %.5f %.1f series/s eta %.0fs\n",
			s, steps, loss, rate, eta);
	}
}

/* The training part of every series of dir: y[0 .. n-E-1]. */
static int load_data(const char *dir, eval_data *d, ssm_series **out, int *n)
{
	char err[256];
	int i, k = 0;

	if (eval_data_load(dir, d, err, sizeof err) != 0) {
		fprintf(stderr, "train: %s\n", err);
		return -1;
	}
	*out = calloc((size_t)d->count + 1, sizeof(ssm_series));
	if (!*out)
		return -1;
	for (i = 0; i < d->count; i++) {
		const eval_series *s = &d->s[i];
		eval_origins o;

		if (eval_origins_of(s->n, s->horizon, &o) != 0 || o.first < 8)
			continue;
		(*out)[k].y = s->y;
		(*out)[k].n = o.first; /* values after it are never read */
		(*out)[k].period = s->period;
		(*out)[k].step_s = s->step_s;
		(*out)[k].t0 = s->t[0];
		k++;
	}
	*n = k;
	return 0;
}

typedef struct opts {
	const char *out, *data, *db, *init, *ckpt, *resume;
	int init_only, log_every, ckpt_every, stop_after;
	ssm_model_arch arch;
	ssm_train_cfg cfg;
	int p_data_set, gate;
} opts;

static int parse(int argc, char **argv, opts *o)
{
	int i;

	memset(o, 0, sizeof *o);
	ssm_model_default_arch(&o->arch);
	ssm_train_default_cfg(&o->cfg);
	o->log_every = 50;
	o->ckpt_every = 200;
	o->gate = -1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int used = 1;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--init-only")) {
			o->init_only = 1;
			used = 0;
		} else if (!v) {
			fprintf(stderr, "train: %s needs a value\n", a);
			return -1;
		} else if (!strcmp(a, "--out"))
			o->out = v;
		else if (!strcmp(a, "--data"))
			o->data = v;
		else if (!strcmp(a, "--from-db"))
			o->db = v;
		else if (!strcmp(a, "--init"))
			o->init = v;
		else if (!strcmp(a, "--checkpoint"))
			o->ckpt = v;
		else if (!strcmp(a, "--resume"))
			o->resume = v;
		else if (!strcmp(a, "--steps"))
			o->cfg.steps = atoi(v);
		else if (!strcmp(a, "--batch"))
			o->cfg.batch = atoi(v);
		else if (!strcmp(a, "--chunk"))
			o->cfg.chunk = atoi(v);
		else if (!strcmp(a, "--lr"))
			o->cfg.lr = atof(v);
		else if (!strcmp(a, "--warmup"))
			o->cfg.warmup = atoi(v);
		else if (!strcmp(a, "--wd"))
			o->cfg.wd = atof(v);
		else if (!strcmp(a, "--clip"))
			o->cfg.clip = atof(v);
		else if (!strcmp(a, "--seed"))
			o->cfg.seed = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--p-data")) {
			o->cfg.p_data = atof(v);
			o->p_data_set = 1;
		} else if (!strcmp(a, "--max-len"))
			o->cfg.max_len = atoi(v);
		else if (!strcmp(a, "--log-every"))
			o->log_every = atoi(v);
		else if (!strcmp(a, "--ckpt-every"))
			o->ckpt_every = atoi(v);
		else if (!strcmp(a, "--stop-after"))
			o->stop_after = atoi(v);
		else if (!strcmp(a, "--d-model"))
			o->arch.d_model = atoi(v);
		else if (!strcmp(a, "--layers"))
			o->arch.nlayers = atoi(v);
		else if (!strcmp(a, "--n-state")) {
			int l;
			for (l = 0; l < SSM_MAX_LAYERS; l++)
				o->arch.layer[l].n_state = atoi(v);
		} else if (!strcmp(a, "--horizon"))
			o->arch.horizon = atoi(v);
		else if (!strcmp(a, "--max-period"))
			o->arch.max_period = atoi(v);
		else if (!strcmp(a, "--gate"))
			o->gate = atoi(v);
		else if (!strcmp(a, "--kind")) {
			int l, k = !strcmp(v, "mamba")	 ? 1
				   : !strcmp(v, "mixed") ? 2
				   : !strcmp(v, "s4d")	 ? 0
							 : -1;
			if (k < 0) {
				fprintf(stderr, "train: unknown kind %s\n", v);
				return -1;
			}
			for (l = 0; l < SSM_MAX_LAYERS; l++) {
				int mb = k == 1 || (k == 2 && l % 2 == 1);
				o->arch.layer[l].kind =
				    mb ? SSM_LAYER_MAMBA : SSM_LAYER_S4D;
				o->arch.layer[l].expand = mb ? 2 : 0;
				o->arch.layer[l].d_conv = mb ? 4 : 0;
				if (!o->arch.layer[l].n_state)
					o->arch.layer[l].n_state = 8;
			}
		} else {
			fprintf(stderr, "train: unknown option %s\n", a);
			return -1;
		}
		i += used;
	}
	if (!o->out) {
		usage(stderr);
		return -1;
	}
	if (o->log_every < 1)
		o->log_every = 1;
	return 0;
}

/* The model to train: resumed, loaded (--init) or new. */
static int make_model(opts *o, ssm_model **m, void **blob, size_t *bloblen)
{
	char msg[256] = "";
	int err, l;

	if (o->resume) {
		err = io_ckpt_load(o->resume, m, &o->cfg, blob, bloblen, msg,
				   sizeof msg);
	} else if (o->init) {
		err = io_model_load(o->init, m, msg, sizeof msg);
	} else {
		for (l = 0; l < o->arch.nlayers && l < SSM_MAX_LAYERS; l++)
			if (!o->arch.layer[l].kind) {
				o->arch.layer[l].kind = SSM_LAYER_S4D;
				o->arch.layer[l].n_state = 8;
			}
		err = ssm_model_new(m, &o->arch);
		if (!err)
			err = ssm_model_init_weights(*m, o->cfg.seed);
		if (err)
			snprintf(msg, sizeof msg, "%s", ssm_strerror(err));
	}
	if (!err && o->gate >= 0 && (err = ssm_model_set_gate(*m, o->gate)))
		snprintf(msg, sizeof msg, "--gate: %s", ssm_strerror(err));
	if (err)
		fprintf(stderr, "train: %s\n", msg);
	return err;
}

int cmd_train(int argc, char **argv)
{
	opts o;
	ssm_model *m = NULL;
	ssm_trainer *tr = NULL;
	ssm_series *series = NULL;
	eval_data data = {0};
	train_db db = {0};
	void *blob = NULL;
	size_t bloblen = 0;
	double t0, loss = 0.0, tail = 0.0, gn, first = -1.0;
	int nser = 0, rc = 1, err, s, s0, ntail = 0, tty = isatty(2);

	if (parse(argc, argv, &o) != 0)
		return 2;
	/* Single-threaded BLAS: the machine is shared, results repeatable. */
	openblas_set_num_threads(1);
	if (make_model(&o, &m, &blob, &bloblen) != 0)
		goto out;
	if (o.init_only) {
		rc = io_model_save(m, o.out) == 0 ? 0 : 1;
		if (rc == 0)
			printf("train: wrote untrained model %s (%zu state "
			       "floats per series)\n",
			       o.out, ssm_model_state_floats(m));
		goto out;
	}
	if (o.data && load_data(o.data, &data, &series, &nser) != 0)
		goto out;
	if (o.db) {
		char msg[256];
		ssm_series *all;

		if (train_db_load(o.db, o.cfg.max_len, &db, msg, sizeof msg)) {
			fprintf(stderr, "train: %s\n", msg);
			goto out;
		}
		all = realloc(series, sizeof(ssm_series) *
					  (size_t)(nser + db.count + 1));
		if (!all)
			goto out;
		series = all;
		memcpy(series + nser, db.series,
		       sizeof(ssm_series) * (size_t)db.count);
		nser += db.count;
		fprintf(stderr, "train: %d series from %s\n", db.count, o.db);
	}
	if (nser > 0 && !o.p_data_set && !o.resume)
		o.cfg.p_data = 0.5;
	if (nser == 0)
		o.cfg.p_data = 0.0;
	if ((err = ssm_trainer_new(&tr, m, &o.cfg, series, nser)) != 0) {
		fprintf(stderr, "train: bad configuration: %s\n",
			ssm_strerror(err));
		goto out;
	}
	if (blob) {
		char msg[256] = "";
		if (io_ckpt_restore(blob, bloblen, tr, msg, sizeof msg) != 0) {
			fprintf(stderr, "train: %s: %s\n", o.resume, msg);
			goto out;
		}
	}
	t0 = now_s();
	s0 = ssm_trainer_steps_done(tr);
	for (s = s0; s < o.cfg.steps; s++) {
		if (o.stop_after > 0 && s >= o.stop_after)
			break;
		double el, rate;
		int done = s + 1 - s0;

		err = ssm_trainer_step(tr, &loss, &gn);
		if (err == SSM_ENONFINITE)
			fprintf(stderr,
				"train: step %d skipped: non-finite "
				"loss or gradient\n",
				s);
		if (first < 0.0)
			first = loss;
		if (s >= o.cfg.steps - 100) {
			tail += loss;
			ntail++;
		}
		el = now_s() - t0;
		rate = done * o.cfg.batch / (el > 1e-9 ? el : 1e-9);
		if (tty || (s + 1) % o.log_every == 0 || s + 1 == o.cfg.steps)
			progress(tty, s + 1, o.cfg.steps, loss, rate,
				 (o.cfg.steps - s - 1) * o.cfg.batch / rate);
		if (o.ckpt && o.ckpt_every > 0 && (s + 1) % o.ckpt_every == 0 &&
		    io_ckpt_save(o.ckpt, tr, m, &o.cfg) != 0)
			fprintf(stderr, "train: cannot write %s\n", o.ckpt);
	}
	if (tty)
		fputc('\n', stderr);
	if (o.ckpt && io_ckpt_save(o.ckpt, tr, m, &o.cfg) != 0) {
		fprintf(stderr, "train: cannot write %s\n", o.ckpt);
		goto out;
	}
	if ((err = io_model_save(m, o.out)) != 0) {
		fprintf(stderr, "train: %s: %s\n", o.out,
			io_model_strerror(err));
		goto out;
	}
	printf("train: %d of %d steps, batch %d, chunk %d, seed %llu, %d data "
	       "series, %.1f s\n",
	       ssm_trainer_steps_done(tr), o.cfg.steps, o.cfg.batch,
	       o.cfg.chunk, (unsigned long long)o.cfg.seed, nser, now_s() - t0);
	printf("train: first loss %.5f, mean of the last %d %.5f\n", first,
	       ntail, ntail ? tail / ntail : 0.0);
	printf("train: wrote %s (hash %016llx, %zu state floats per series)\n",
	       o.out, (unsigned long long)ssm_model_hash(m),
	       ssm_model_state_floats(m));
	rc = 0;
out:
	ssm_trainer_free(tr);
	ssm_model_free(m);
	free(series);
	free(blob);
	if (o.data)
		eval_data_free(&data);
	train_db_free(&db);
	return rc;
}
