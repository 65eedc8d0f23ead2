/*
 * tests/ssm/test_model.c: the model contract of ssm/model.h: forecasts
 * monotone and finite, batched == single bit for bit whatever the batch,
 * snapshot = memcpy, poisoned states reset, untrained model = front, a
 * step without a forecast = one with, the forecast from the state = the
 * step's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/model.h"
#include "ssm/model_internal.h" /* ssm__serve_q3, ssm__serve_rows, ... */
#include "ssm/rng.h"
#include "tests/harness.h"

/* A model whose head is random, so the network contributes; mixed = an
 * S4D then a Mamba layer instead of the default stack. */
/* horizon 0 keeps the default arch's (48). */
static ssm_model *random_head_model_h(uint64_t seed, int mixed, int horizon)
{
	ssm_model *m = NULL;
	const ssm_tensor *t;
	ssm_model_arch a;
	ssm_rng r;
	size_t i;

	ssm_model_default_arch(&a);
	if (horizon)
		a.horizon = horizon;
	if (mixed) {
		a.d_model = 8;
		a.layer[1].kind = SSM_LAYER_MAMBA;
		a.layer[1].n_state = 4;
		a.layer[1].expand = 2;
		a.layer[1].d_conv = 4;
	}
	CHECK_EQ_INT(ssm_model_new(&m, &a), 0);
	CHECK_EQ_INT(ssm_model_init_weights(m, seed), 0);
	ssm_rng_init(&r, seed + 1);
	t = ssm_model_tensor_by_name(m, "head.w");
	CHECK(t != NULL);
	for (i = 0; t && i < t->n; i++)
		t->data[i] = (float)(0.3 * ssm_rng_normal(&r));
	t = ssm_model_tensor_by_name(m, "head.b");
	for (i = 0; t && i < t->n; i++)
		t->data[i] = (float)(0.3 * ssm_rng_normal(&r));
	CHECK_EQ_INT(ssm_model_refresh(m), 0);
	return m;
}

static ssm_model *random_head_model_of(uint64_t seed, int mixed)
{
	return random_head_model_h(seed, mixed, 0);
}

static ssm_model *random_head_model(uint64_t seed)
{
	return random_head_model_of(seed, 0);
}

/* Series b's sample i: seasonal, trending, scaled, with gaps and misses. */
static ssm_sample sample_of(int b, int i)
{
	ssm_sample s;
	double sc = pow(10.0, (b % 7) - 2);

	s.t = 1.6e9 + 3600.0 * i + (b % 3 == 0 && i % 17 == 5 ? 7200.0 : 0);
	s.value = sc * (10.0 + 0.01 * i + 3.0 * sin(2 * M_PI * i / 24.0) +
			sin(1.7 * i + b));
	if (b % 4 == 1 && i % 13 == 0)
		s.value = NAN;
	return s;
}

typedef struct fc {
	float *q, *mean;
	ssm_forecast f;
} fc;

static void fc_alloc(const ssm_model *m, fc *x)
{
	int H = ssm_model_horizon(m), Q = ssm_model_nquantiles(m);

	x->q = calloc((size_t)(H * Q), sizeof(float));
	x->mean = calloc((size_t)H, sizeof(float));
	x->f.q = x->q;
	x->f.mean = x->mean;
}

static void test_forecasts_monotone_finite(void)
{
	ssm_model *m = random_head_model(3);
	size_t S = ssm_model_state_floats(m);
	float *st = calloc(S, sizeof(float));
	void *ws = malloc(ssm_model_workspace_bytes(m, 1));
	int H = ssm_model_horizon(m), Q = ssm_model_nquantiles(m);
	int i, h, k, bad = 0;
	fc x;

	fc_alloc(m, &x);
	CHECK_EQ_INT(ssm_state_init(m, st, 24, 3600.0), 0);
	for (i = 0; i < 500; i++) {
		ssm_sample s = sample_of(5, i);
		CHECK_EQ_INT(ssm_model_step(m, st, &s, &x.f, ws), 0);
		for (h = 0; h < H; h++)
			for (k = 0; k < Q; k++) {
				float v = x.q[h * Q + k];
				if (!isfinite(v) ||
				    (k > 0 && !(v >= x.q[h * Q + k - 1])))
					bad++;
			}
	}
	CHECK_EQ_INT(bad, 0);
	free(x.q);
	free(x.mean);
	free(st);
	free(ws);
	ssm_model_free(m);
}

/* A constant series: the untrained model forecasts the constant. */
static void test_untrained_is_front(void)
{
	ssm_model *m = NULL;
	size_t S;
	float *st;
	void *ws;
	int i, h, H;
	fc x;

	CHECK_EQ_INT(ssm_model_new_default(&m, 1), 0);
	S = ssm_model_state_floats(m);
	H = ssm_model_horizon(m);
	st = calloc(S, sizeof(float));
	ws = malloc(ssm_model_workspace_bytes(m, 1));
	fc_alloc(m, &x);
	ssm_state_init(m, st, 1, 60.0);
	for (i = 0; i < 50; i++) {
		ssm_sample s = {1e9 + 60.0 * i, 42.5};
		CHECK_EQ_INT(ssm_model_step(m, st, &s, &x.f, ws), 0);
	}
	for (h = 0; h < H; h++)
		CHECK_NEAR(x.mean[h], 42.5, 1e-4);
	CHECK(x.f.t == 1e9 + 60.0 * 49);
	free(x.q);
	free(x.mean);
	free(st);
	free(ws);
	ssm_model_free(m);
}

/*
 * Every series' states and forecasts are the same bits whether it is
 * stepped alone, in a batch of all, or in batches of another size and
 * order: what the daemon serves is what eval measures.
 */
static void batch_bit_exact(int mixed)
{
	enum { NS = 37, T = 120 };
	ssm_model *m = random_head_model_of(11, mixed);
	size_t S = ssm_model_state_floats(m);
	int H = ssm_model_horizon(m), Q = ssm_model_nquantiles(m);
	int sizes[3] = {1, NS, 5}, v, b, i, same = 1;
	float *st[3][NS];
	fc out[3][NS];
	void *ws = malloc(ssm_model_workspace_bytes(m, NS));

	for (v = 0; v < 3; v++)
		for (b = 0; b < NS; b++) {
			st[v][b] = calloc(S, sizeof(float));
			/* Every fifth series at a weekly step: rows of one
			 * timestamp whose time features differ (no day or
			 * week phase; model_step.c's time_feat). */
			ssm_state_init(m, st[v][b], 1 + b % 24,
				       b % 5 == 4 ? 7 * 86400.0 : 3600.0);
			fc_alloc(m, &out[v][b]);
		}
	for (i = 0; i < T; i++) {
		for (v = 0; v < 3; v++) {
			/* Variant 2 runs the series in reverse order. */
			float *sp[NS];
			ssm_sample in[NS];
			ssm_forecast fo[NS];
			int stat[NS], j, n;

			for (j = 0; j < NS; j++) {
				int s = v == 2 ? NS - 1 - j : j;
				sp[j] = st[v][s];
				in[j] = sample_of(s, i);
				fo[j] = out[v][s].f;
			}
			for (j = 0; j < NS; j += sizes[v]) {
				n = NS - j < sizes[v] ? NS - j : sizes[v];
				CHECK_EQ_INT(
				    ssm_model_step_batch(m, n, sp + j, in + j,
							 fo + j, stat + j, ws),
				    0);
			}
			for (j = 0; j < NS; j++)
				out[v][v == 2 ? NS - 1 - j : j].f.anomaly =
				    fo[j].anomaly;
		}
		for (b = 0; b < NS; b++)
			for (v = 1; v < 3; v++) {
				same &= !memcmp(st[0][b], st[v][b],
						S * sizeof(float));
				same &=
				    !memcmp(out[0][b].q, out[v][b].q,
					    sizeof(float) * (size_t)(H * Q));
				same &= !memcmp(out[0][b].mean, out[v][b].mean,
						sizeof(float) * (size_t)H);
				same &=
				    out[0][b].f.anomaly == out[v][b].f.anomaly;
			}
	}
	CHECK(same);
	for (v = 0; v < 3; v++)
		for (b = 0; b < NS; b++) {
			free(st[v][b]);
			free(out[v][b].q);
			free(out[v][b].mean);
		}
	free(ws);
	ssm_model_free(m);
}

static void test_batch_bit_exact(void)
{
	batch_bit_exact(0);
}

static void test_batch_bit_exact_mamba(void)
{
	batch_bit_exact(1);
}

/* A snapshot is a copy of the block: both copies continue identically. */
static void test_snapshot_is_memcpy(void)
{
	ssm_model *m = random_head_model(5);
	size_t S = ssm_model_state_floats(m);
	float *a = calloc(S, sizeof(float)), *b = calloc(S, sizeof(float));
	void *ws = malloc(ssm_model_workspace_bytes(m, 1));
	int i;

	ssm_state_init(m, a, 12, 60.0);
	for (i = 0; i < 100; i++) {
		ssm_sample s = sample_of(2, i);
		ssm_model_step(m, a, &s, NULL, ws);
	}
	memcpy(b, a, S * sizeof(float));
	for (; i < 200; i++) {
		ssm_sample s = sample_of(2, i);
		ssm_model_step(m, a, &s, NULL, ws);
		ssm_model_step(m, b, &s, NULL, ws);
	}
	CHECK(!memcmp(a, b, S * sizeof(float)));
	free(a);
	free(b);
	free(ws);
	ssm_model_free(m);
}

/* A poisoned state is detected, reset and reported, never kept. */
static void test_nonfinite_state_resets(void)
{
	ssm_model *m = random_head_model(9);
	size_t S = ssm_model_state_floats(m), j;
	float *st = calloc(S, sizeof(float)), *fresh = calloc(S, sizeof(float));
	void *ws = malloc(ssm_model_workspace_bytes(m, 1));
	ssm_sample s = sample_of(1, 0);
	int i, rc;
	fc x;

	fc_alloc(m, &x);
	ssm_state_init(m, st, 1, 3600.0);
	for (i = 0; i < 20; i++) {
		s = sample_of(1, i);
		ssm_model_step(m, st, &s, &x.f, ws);
	}
	st[S - 1] = NAN; /* the last float: deepest in the block */
	for (j = 0; j < S; j++)
		if (j >= 10)
			st[j] = NAN;
	rc = ssm_model_step(m, st, &s, &x.f, ws);
	CHECK_EQ_INT(rc, SSM_ERESET);
	/* Reset = exactly a fresh state of the same period and step. */
	ssm_state_init(m, fresh, 1, 3600.0);
	CHECK(!memcmp(st, fresh, S * sizeof(float)));
	CHECK(isnan(x.mean[0]));
	/* The reset series works again. */
	s = sample_of(1, 21);
	CHECK_EQ_INT(ssm_model_step(m, st, &s, &x.f, ws), 0);
	CHECK(isfinite(x.mean[0]));
	free(x.q);
	free(x.mean);
	free(fresh);
	free(st);
	free(ws);
	ssm_model_free(m);
}

/*
 * ssm__serve_q3 (the step's fused serving for Q = 3) against the general
 * path (ssm__serve_rows: compose, the gate's finish, serving) on the same
 * inputs: served quantiles, means, the state the next step reads and the
 * finiteness verdict, bit for bit. Head outputs past the exponent clamp,
 * gaps near 0 and large, gate on and off, no evidence yet (both errors
 * 0), no output arrays, and scales that overflow to Inf. Horizons: the
 * shipped 48 (four to a vector throughout), 45 (a scalar tail of 1 after
 * the vectors, ssm/kern_serve.c's serve1) and 3 (serve1 alone).
 */
static void serve_q3_is_general(int horizon)
{
	ssm_model *m = random_head_model_h(13, 0, horizon);
	const int H = ssm_model_horizon(m), HQ = H * 3;
	size_t S = ssm_model_state_floats(m);
	float *sa = calloc(S, sizeof(float)), *sb = calloc(S, sizeof(float));
	float o[SSM_MAX_H * 3], gap[SSM_MAX_H * 2];
	float qa[SSM_MAX_H * 3], qb[SSM_MAX_H * 3], ma[SSM_MAX_H],
	    mb[SSM_MAX_H];
	double pt[SSM_MAX_H], sc;
	int trial, j, ra, rb, gate, outs, nbad = 0, nmis = 0;
	ssm_rng r;

	CHECK_EQ_INT(ssm_model_nquantiles(m), 3);
	ssm_rng_init(&r, 77);
	ssm_state_init(m, sa, 24, 60.0);
	for (trial = 0; trial < 400; trial++) {
		gate = trial % 2;
		outs = trial % 5 != 4;
		CHECK_EQ_INT(ssm_model_set_gate(m, gate), 0);
		for (j = 0; j < HQ; j++)
			o[j] = (float)(ssm_rng_normal(&r) *
				       (trial % 7 == 3 ? 12.0 : 1.5));
		for (j = 0; j < 2 * H; j++)
			gap[j] = (float)(trial % 11 == 5
					     ? 1e-3
					     : exp(3.0 * ssm_rng_normal(&r)));
		sc = exp(4.0 * ssm_rng_normal(&r));
		if (trial % 37 == 36)
			sc = 1e308; /* the served values overflow */
		for (j = 0; j < H; j++)
			pt[j] = 100.0 * ssm_rng_normal(&r);
		sa[SSM__H_ERR_F] =
		    trial % 13 == 0 ? 0.0f : (float)fabs(ssm_rng_normal(&r));
		sa[SSM__H_ERR_M] =
		    trial % 13 == 0 ? 0.0f : (float)fabs(ssm_rng_normal(&r));
		memcpy(sb, sa, S * sizeof(float));
		memset(qa, 0x5a, sizeof qa);
		memset(qb, 0x5a, sizeof qb);
		memset(ma, 0x5a, sizeof ma);
		memset(mb, 0x5a, sizeof mb);
		ra = ssm__serve_q3(m, sa, o, gap, pt, sc, outs ? qa : NULL,
				   outs ? ma : NULL);
		rb = ssm__serve_rows(m, sb, o, gap, pt, sc, outs ? qb : NULL,
				     outs ? mb : NULL);
		nbad += ra != 0;
		nmis += (ra != 0) != (rb != 0) || memcmp(qa, qb, sizeof qa) ||
			memcmp(ma, mb, sizeof ma) ||
			memcmp(sa, sb, S * sizeof(float));
	}
	CHECK_EQ_INT(nmis, 0);
	/* The overflow trials were seen as such. */
	CHECK(nbad > 0);
	CHECK(nbad < 400);
	free(sa);
	free(sb);
	ssm_model_free(m);
}

static void test_serve_q3_is_general(void)
{
	serve_q3_is_general(48);
	serve_q3_is_general(45);
	serve_q3_is_general(3);
}

/* Series b's sample i for the lazy tests: sample_of's seasonal series and
 * the corners, by b % 8: a random walk, a constant (no scale: the pruned
 * step falls back to every horizon), values near 1e200 and near overflow
 * (the bounds fail; served values overflow and reset the state), a ramp
 * that wraps (bench/loadgen.c's), tiny values, and spikes to 1e300. */
static ssm_sample lazy_sample(int b, int i, ssm_rng *r)
{
	ssm_sample s = sample_of(b, i);
	double n = ssm_rng_normal(r);

	switch (b % 8) {
	case 1:
		s.value = 50.0 + 0.3 * i * n;
		break;
	case 2:
		s.value = 7.0;
		break;
	case 3:
		s.value = 1e200 * (1.0 + 0.1 * n);
		break;
	case 4:
		s.value = (i % 40 < 20 ? 1e307 : -1e307) * (1.0 + 0.5 * n);
		break;
	case 5:
		s.value = (double)((b * 7 + i) % 97);
		break;
	case 6:
		s.value = 1e-300 * (3.0 + n);
		break;
	case 7:
		s.value = i % 53 == 52 ? 1e300 : 20.0 + n;
		break;
	}
	return s;
}

/*
 * A step without a forecast (out NULL) prunes what the state does not
 * depend on: its states and statuses must be the forecasting step's to
 * the bit, resets included (a non-finite served value at a horizon the
 * pruned step does not serve is proved impossible, or it serves them
 * all), also when only some series of a batch make none (their q and
 * mean NULL). And ssm_model_forecast, from the state alone, gives the step's
 * forecast to the bit (NaN after a reset), and ssm_model_next_quantiles
 * its horizon-1 quantiles.
 */
static void lazy_bit_exact(int mixed, int gate)
{
	enum { NS = 48, T = 300 };
	ssm_model *m = random_head_model_of(21 + mixed, mixed);
	size_t S = ssm_model_state_floats(m);
	int H = ssm_model_horizon(m), Q = ssm_model_nquantiles(m);
	float *sa[NS], *sb[NS], *sc[NS];
	fc out[NS], oc[NS], od;
	ssm_forecast fo[NS], fc_[NS];
	ssm_sample in[NS];
	int sta[NS], stb[NS], stc[NS], b, i, same = 1, fsame = 1, nreset = 0;
	void *ws = malloc(ssm_model_workspace_bytes(m, NS));
	ssm_rng r;

	CHECK_EQ_INT(ssm_model_set_gate(m, gate), 0);
	ssm_rng_init(&r, 5 + (uint64_t)mixed);
	fc_alloc(m, &od);
	for (b = 0; b < NS; b++) {
		sa[b] = calloc(S, sizeof(float));
		sb[b] = calloc(S, sizeof(float));
		sc[b] = calloc(S, sizeof(float));
		ssm_state_init(m, sa[b], b % 3 ? 1 : 24, 3600.0);
		ssm_state_init(m, sb[b], b % 3 ? 1 : 24, 3600.0);
		ssm_state_init(m, sc[b], b % 3 ? 1 : 24, 3600.0);
		fc_alloc(m, &out[b]);
		fc_alloc(m, &oc[b]);
		fo[b] = out[b].f;
		/* C: every other series without a forecast (q, mean NULL). */
		fc_[b] = oc[b].f;
		if (b % 2)
			fc_[b].q = fc_[b].mean = NULL;
	}
	for (i = 0; i < T; i++) {
		for (b = 0; b < NS; b++)
			in[b] = lazy_sample(b, i, &r);
		nreset += ssm_model_step_batch(m, NS, sa, in, fo, sta, ws);
		CHECK(ssm_model_step_batch(m, NS, sb, in, NULL, stb, ws) >= 0);
		CHECK(ssm_model_step_batch(m, NS, sc, in, fc_, stc, ws) >= 0);
		for (b = 0; b < NS; b++) {
			int rc = ssm_model_forecast(m, sb[b], &od.f);

			same &= sta[b] == stc[b] &&
				!memcmp(sa[b], sc[b], S * sizeof(float));
			same &= b % 2 || !memcmp(oc[b].q, fo[b].q,
						 sizeof(float) * H * Q);

			same &= sta[b] == stb[b] &&
				!memcmp(sa[b], sb[b], S * sizeof(float));
			fsame &=
			    rc == (sta[b] == SSM_OK ? SSM_OK : SSM_EINVAL) &&
			    !memcmp(od.q, fo[b].q, sizeof(float) * H * Q) &&
			    !memcmp(od.mean, fo[b].mean, sizeof(float) * H) &&
			    od.f.anomaly == fo[b].anomaly;
			fsame &= sta[b] != SSM_OK ||
				 !memcmp(ssm_model_next_quantiles(m, sb[b]),
					 fo[b].q, sizeof(float) * Q);
		}
	}
	CHECK(same);
	CHECK(fsame);
	/* The corner was met: some series were reset. */
	CHECK(nreset > 0);
	for (b = 0; b < NS; b++) {
		free(sa[b]);
		free(sb[b]);
		free(sc[b]);
		free(out[b].q);
		free(out[b].mean);
		free(oc[b].q);
		free(oc[b].mean);
	}
	free(od.q);
	free(od.mean);
	free(ws);
	ssm_model_free(m);
}

static void test_lazy_bit_exact(void)
{
	lazy_bit_exact(0, 1);
	lazy_bit_exact(0, 0);
}

static void test_lazy_bit_exact_mamba(void)
{
	lazy_bit_exact(1, 1);
}

/* ssm__fmod_whole is fmod to the bit: whole and fractional timestamps,
 * multiples (+0), zero and negative values (-0 and the sign), the cycles'
 * lengths, huge and non-finite values. */
static void test_fmod_whole(void)
{
	static const double ps[] = {86400.0, 604800.0, 31556952.0, 24.0,
				    7.0,     1.0,      2.5,	   0x1p40};
	static const double ts[] = {
	    1.7e9,	   1.7e9 + 0.5, 1728000.0, 86400.0,  0.0,
	    -0.0,	   -86400.0,	-1.7e9,	   3.0,	     0x1p62,
	    0x1p62 - 1024, 1e300,	1e-300,	   INFINITY, NAN};
	int i, j, k, errs = 0;

	for (i = 0; i < (int)(sizeof ps / sizeof ps[0]); i++)
		for (j = 0; j < (int)(sizeof ts / sizeof ts[0]); j++)
			for (k = 0; k < 200; k++) {
				double t =
				    ts[j] + (k < 100 ? 60.0 * k : 0.25 * k);
				double a = fmod(t, ps[i]),
				       b = ssm__fmod_whole(t, ps[i]);

				errs += memcmp(&a, &b, sizeof a) != 0 &&
					!(isnan(a) && isnan(b));
			}
	CHECK_EQ_INT(errs, 0);
}

static void test_arguments_and_hash(void)
{
	ssm_model *a = NULL, *b = NULL, *c = NULL;
	ssm_model_arch arch;
	float st[4];

	CHECK_EQ_INT(ssm_model_new_default(&a, 1), 0);
	CHECK_EQ_INT(ssm_model_new_default(&b, 1), 0);
	CHECK_EQ_INT(ssm_model_new_default(&c, 2), 0);
	CHECK(ssm_model_hash(a) == ssm_model_hash(b));
	CHECK(ssm_model_hash(a) != ssm_model_hash(c));
	CHECK_EQ_INT(ssm_state_init(a, st, 0, 60.0), SSM_EINVAL);
	CHECK_EQ_INT(ssm_state_init(a, st, 1, 0.0), SSM_EINVAL);
	CHECK_EQ_INT(ssm_model_step_batch(a, -1, NULL, NULL, NULL, NULL, NULL),
		     SSM_EINVAL);
	ssm_model_default_arch(&arch);
	arch.nquantiles = 4;
	CHECK(ssm_model_arch_check(&arch) != 0);
	ssm_model_default_arch(&arch);
	arch.quantiles[0] = 0.6f;
	CHECK(ssm_model_arch_check(&arch) != 0);
	/* The smoothing front dominates; see ssm/smooth.h. */
	CHECK(ssm_model_state_floats(a) * sizeof(float) <= 20480);
	CHECK(ssm_model_quantiles(a)[1] == 0.5f);
	ssm_model_free(a);
	ssm_model_free(b);
	ssm_model_free(c);
}

int main(void)
{
	TH_RUN(test_forecasts_monotone_finite);
	TH_RUN(test_untrained_is_front);
	TH_RUN(test_batch_bit_exact);
	TH_RUN(test_batch_bit_exact_mamba);
	TH_RUN(test_snapshot_is_memcpy);
	TH_RUN(test_nonfinite_state_resets);
	TH_RUN(test_serve_q3_is_general);
	TH_RUN(test_lazy_bit_exact);
	TH_RUN(test_lazy_bit_exact_mamba);
	TH_RUN(test_arguments_and_hash);
	TH_RUN(test_fmod_whole);
	return th_summary();
}
