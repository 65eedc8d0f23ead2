/*
 * ssm/smooth_weights.c: the combination's weights in the forecaster bank
 * behind ssm/smooth.h: from every member's discounted scaled errors at each
 * checkpoint horizon, which members weigh in the combined forecast there
 * and how much, by the rule the options pick (the default: the three with
 * the lowest error pooled up to the horizon, 1 / err^2; the ablations':
 * the best alone, equal, softmin, top-n).
 *
 * Workload: once per observed sample in the update (ssm/smooth.c, record),
 * and in a forecast only when more members weigh than the header keeps
 * (the warm-up, the ablations: ssm/smooth_forecast.c, weights_kept); 18
 * members at <= 5 checkpoints, nothing allocated.
 */
#include <math.h>
#include <string.h>

#include "ssm/smooth_parts.h"

#define MIN_SCORED 3.0 /* discounted errors before a member is weighed */

/*
 * The weights w[g][k] of every member at every checkpoint (each row sums
 * to 1 over the active members). A member's error at checkpoint g is its
 * discounted mean |scaled error| there; pooled (the default), the
 * geometric mean of those at checkpoints 1..g, i.e. how well it has
 * forecast up to that horizon: long horizons have few effectively
 * independent errors, and pooling steadies them.
 *
 * The geometric mean of n ratios ranks like their product when the n are
 * equal, which they are for every scored member once all have been scored
 * a few times: then no logarithm is taken to rank, and a weight relative
 * to the best, (best / err)^2 of the geometric means, costs one pow() per
 * kept member. Rows where the counts differ (warm-up) rank in log space.
 */
/*
 * r^(2/n): with r = (best product) / (product) of n error ratios, the
 * weight 1/err^2 relative to the best's, err their geometric mean. The
 * same value as exp(-2 log(1/r) / n) to rounding, with no exp() or log()
 * for the usual n (one per checkpoint pooled).
 */
static double rel_inv_sq(double r, int n)
{
	switch (n) {
	case 1:
		return r * r;
	case 2:
		return r;
	case 4:
		return sqrt(r);
	default:
		return pow(r, 2.0 / n);
	}
}

/* nz->k[g] = the members of cand[0..nc-1] (bank order) whose weight at g
 * is nonzero. */
static void nz_row(wnz *nz, int g, const double *wg, const int *cand, int nc)
{
	int i;

	nz->n[g] = 0;
	for (i = 0; i < nc; i++)
		if (wg[cand[i]] != 0) {
			nz->k[g][nz->n[g]++] = (uint8_t)cand[i];
			nz->in[cand[i]] |= 1u << g;
		}
}

/*
 * The top-n loop of ssm__smooth_weights_all for n = 3 (the default) over the
 * members of mask in bank order: the same steps with selects in place of its
 * data-dependent branches, which mispredict several times a row; the same
 * outcome for any keys, NaN included (each comparison is made only where
 * the loop makes it). Also the best, as ssm__smooth_weights_all's key loop
 * finds it
 * (*kmin, *best: the first strictly smallest key; unchanged when every key
 * is NaN), so that the default rule needs no loop of its own over the
 * members. Returns the count kept.
 */
static int top3(const double *key, uint32_t mask, int *top, double *kmin,
		int *best)
{
	int t0 = 0, t1 = 0, t2 = 0, nk = 0, b = *best;
	double v0 = 0, v1 = 0, v2 = 0, mn = *kmin;

	for (; mask; mask &= mask - 1) {
		int k = __builtin_ctz(mask), start = nk < 3 ? nk : 2, p = start;
		double v = key[k];
		int in = nk < 3 || v < v2;
		int n0, n1, n2;
		double w0, w1, w2;

		/* Where the insertion stops: from slot start down. */
		p = p == 2 && v < v1 ? 1 : p;
		p = p == 1 && v < v0 ? 0 : p;
		n2 = start < 2 ? t2 : p == 2 ? k : t1;
		w2 = start < 2 ? v2 : p == 2 ? v : v1;
		n1 = start < 1 ? t1 : p == 1 ? k : p == 0 ? t0 : t1;
		w1 = start < 1 ? v1 : p == 1 ? v : p == 0 ? v0 : v1;
		n0 = p == 0 ? k : t0;
		w0 = p == 0 ? v : v0;
		t2 = in ? n2 : t2;
		v2 = in ? w2 : v2;
		t1 = in ? n1 : t1;
		v1 = in ? w1 : v1;
		t0 = in ? n0 : t0;
		v0 = in ? w0 : v0;
		nk += nk < 3;
		b = v < mn ? k : b;
		mn = v < mn ? v : mn;
	}
	*kmin = mn;
	*best = b;
	top[0] = t0;
	top[1] = t1;
	top[2] = t2;
	return nk;
}

/*
 * The members that can be in the top 3 at checkpoint g, for the default
 * rule when keys are the products pr (the members of smask): those whose
 * key is at most T, the largest key of the three the last observation
 * kept (h->tk). At least three keys are <= T, so the three smallest all
 * are, and top3 over these candidates (in bank order) picks what it picks
 * over every scored member - usually from three or four instead of about
 * fifteen, where its insertions cost. smask itself when that does not hold
 * (no three kept, one of them no longer scored, or a NaN key, which top3
 * places by its scan order).
 */
static uint32_t top3_cands(const hdr *h, int g, const double *pr,
			   uint32_t smask)
{
	double t = -INFINITY;
	uint32_t c, nan;
	int i, k;

	if (h->tn[g] != 3)
		return smask;
	for (i = 0; i < 3; i++) {
		k = h->tk[g][i];
		if (k >= NBANK || !((smask >> k) & 1))
			return smask;
		t = pr[k] > t ? pr[k] : t;
	}
	c = ssm__smooth_le_mask(pr, NBANK, t, &nan);
	return nan & smask ? smask : c & smask;
}

/* Three distinct member indices into increasing order. */
static void sort3(int *t)
{
	int a = t[0], b = t[1], c = t[2], x;

	x = a < b ? a : b;
	b = a < b ? b : a;
	a = x;
	x = b < c ? b : c;
	c = b < c ? c : b;
	b = x;
	x = a < b ? a : b;
	b = a < b ? b : a;
	a = x;
	t[0] = a;
	t[1] = b;
	t[2] = c;
}

void ssm__smooth_weights_all(const hdr *h, const float *es, uint32_t active,
			     double w[][NBANK], wnz *nz)
{
	/*
	 * Whether member k is scored at checkpoint g, and its count of scored
	 * checkpoints, depend only on its cohort (ssm__member_cohort) once it
	 * is active: so the counts are kept per cohort, the products per
	 * member, and each row walks only the active members, in bank order
	 * (ties and sums go in that order).
	 */
	double pr[NBANK], key[NBANK];
	int ccnt[2] = {0, 0}, has[2];
	int g, k, i;
	const uint32_t c0 = ssm__smooth_cohort0();

	/* w's doubles are 8-byte aligned: said, the memset is one rep stosq
	 * (the static function of one file knew it from its callers). */
	memset(__builtin_assume_aligned(w, 8), 0,
	       sizeof(double) * MAXG * NBANK);
	if (nz)
		memset(nz->in, 0, sizeof nz->in);
	for (k = 0; k < NBANK; k++)
		pr[k] = 1;
	has[0] = (active & c0) != 0;
	has[1] = (active & ~c0) != 0;
	for (g = 0; g < h->G; g++) {
		double kmin = INFINITY, tot = 0, iew[2] = {0, 0};
		int sc[2], scored[NBANK], ne = 0, n0 = 0, same = 1, best = -1;
		int top[NBANK], nk = 0, *cand = scored, j, fast;
		const double *kp = key;
		const float *eg = es + g * NBANK;
		uint32_t smask, m;
		int c;

		for (c = 0; c < 2; c++) {
			sc[c] = h->ew[c][g] >= MIN_SCORED;
			if (sc[c]) {
				ccnt[c] = h->opts.pool ? ccnt[c] + 1 : 1;
				/* One division per cohort, not per member. */
				iew[c] = 1.0 / h->ew[c][g];
			}
		}
		/* The scored members at g (active, cohort scored), their
		 * products over the whole row at once (member-major es), and
		 * the list of them in bank order. */
		smask = active & ((sc[0] ? c0 : 0) | (sc[1] ? ~c0 : 0));
		ssm__smooth_pr_row(pr, eg, iew[0], iew[1], c0, NBANK, smask,
				   !h->opts.pool);
		if (smask == 0) {
			/* Nothing scored yet: the plain mean of the active. */
			int act[NBANK], na = 0;
			double mean;

			for (m = active; m; m &= m - 1)
				act[na++] = __builtin_ctz(m);
			mean = 1.0 / na;
			for (i = 0; i < na; i++)
				w[g][act[i]] = mean;
			if (nz)
				nz_row(nz, g, w[g], act, na);
			continue;
		}
		n0 = ccnt[ssm__member_cohort(__builtin_ctz(smask))];
		for (c = 0; c < 2; c++)
			if (has[c] && sc[c] && ccnt[c] != n0)
				same = 0;
		/* The default rule ranks by the products: only the
		 * candidates can be kept (top3_cands), and the best is among
		 * them. The list of them (or of every scored member) in bank
		 * order. */
		fast = same && h->opts.top_n == 3 &&
		       (h->opts.comb < SSM_SMOOTH_COMB_BEST ||
			h->opts.comb > SSM_SMOOTH_COMB_SOFTMIN);
		/* There the keys are the products themselves (kp), and top3
		 * walks the candidates' mask and finds the best: no list of
		 * them, no key loop. */
		if (fast) {
			smask = top3_cands(h, g, pr, smask);
			kp = pr;
		}
		for (m = smask; m && !fast; m &= m - 1)
			scored[ne++] = __builtin_ctz(m);
		/* key: ranks like the geometric mean; dlog() below turns a
		 * key into log(gm / best gm). */
		for (i = 0; i < ne; i++) {
			k = scored[i];
			key[k] = same
				     ? pr[k]
				     : log(pr[k]) / ccnt[ssm__member_cohort(k)];
			if (key[k] < kmin) {
				kmin = key[k];
				best = k;
			}
		}
#define DLOG(k) (same ? log(key[k] / kmin) / n0 : key[k] - kmin)
		switch (h->opts.comb) {
		case SSM_SMOOTH_COMB_BEST:
			/* (No best when every key is NaN: then none weighs.) */
			if (best >= 0)
				w[g][best] = 1;
			top[0] = best;
			cand = top;
			ne = best >= 0;
			break;
		case SSM_SMOOTH_COMB_EQUAL:
			for (i = 0; i < ne; i++)
				w[g][scored[i]] = 1;
			break;
		case SSM_SMOOTH_COMB_SOFTMIN:
			for (i = 0; i < ne; i++) {
				k = scored[i];
				w[g][k] = exp(-h->opts.softmin_temp *
					      (exp(DLOG(k)) - 1));
			}
			break;
		default: {
			int nt = h->opts.top_n < 1 ? 1 : h->opts.top_n;

			/* One pass keeps the nt smallest keys in order (ties:
			 * the lower index first); once nt are kept, a key
			 * not below the last kept one is passed over at one
			 * comparison. 1/err^2 relative to the best =
			 * exp(-2 dlog). */
			if (nt == 3)
				nk = top3(kp, smask, top, &kmin, &best);
			for (i = 0; i < ne && nt != 3; i++) {
				k = scored[i];
				if (nk == nt && !(key[k] < key[top[nt - 1]]))
					continue;
				j = nk < nt ? nk++ : nt - 1;
				for (; j > 0 && key[k] < key[top[j - 1]]; j--)
					top[j] = top[j - 1];
				top[j] = k;
			}
			for (j = 0; j < nk; j++)
				w[g][top[j]] =
				    top[j] == best ? 1
				    : same ? rel_inv_sq(kmin / kp[top[j]], n0)
					   : exp(-2 * DLOG(top[j]));
			/* Only the kept weigh: they, in bank order, are the
			 * row's candidates (three: a sorting network of
			 * selects, no mispredicted insertion). */
			if (nk == 3)
				sort3(top);
			for (i = 1; i < nk && nk != 3; i++)
				for (j = i; j > 0 && top[j] < top[j - 1]; j--) {
					k = top[j];
					top[j] = top[j - 1];
					top[j - 1] = k;
				}
			cand = top;
			ne = nk;
			break;
		}
		}
#undef DLOG
		/* Only the candidates weigh: the sum over them in bank order
		 * is the sum over the row. */
		for (i = 0; i < ne; i++)
			tot += w[g][cand[i]];
		tot = 1.0 / tot;
		/* Normalized, and the nonzero ones listed (nz_row's list) in
		 * the same pass. */
		for (i = 0, j = 0; i < ne; i++) {
			double *x = &w[g][cand[i]];

			if (*x != 0) {
				*x *= tot;
				if (nz && *x != 0) {
					nz->k[g][j++] = (uint8_t)cand[i];
					nz->in[cand[i]] |= 1u << g;
				}
			}
		}
		if (nz)
			nz->n[g] = j;
	}
}
