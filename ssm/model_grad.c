/*
 * ssm/model_grad.c: backward passes of the model's own parts (encoder,
 * RMSNorm + head, quantile composition, pinball loss), each the pair of a
 * forward in model_step.c, llm.c style. Gradients accumulate (+=) into the
 * caller's buffers; shapes as in model_internal.h (ROWS = SSM__ROWS).
 */
#include <cblas.h>
#include <math.h>

#include "ssm/model_internal.h"

double ssm__pinball(const ssm_model *m, const float *qn, const double *u,
		    const unsigned char *valid, float *dqn)
{
	const int H = m->arch.horizon, Q = m->arch.nquantiles;
	double loss = 0.0;
	int h, k;

	for (h = 0; h < H; h++)
		for (k = 0; k < Q; k++) {
			double tau = m->arch.quantiles[k], e;

			if (!valid[h]) {
				dqn[h * Q + k] = 0.0f;
				continue;
			}
			e = u[h] - qn[h * Q + k];
			loss += e > 0.0 ? tau * e : (tau - 1.0) * e;
			dqn[h * Q + k] = (float)(e > 0.0 ? -tau : 1.0 - tau);
		}
	return loss;
}

void ssm__compose_backward(const ssm_model *m, const float *o, const float *gap,
			   const float *dqn, float *dout)
{
	const int H = m->arch.horizon, Q = m->arch.nquantiles, mid = Q / 2;
	float e[SSM_MAX_H * SSM_MAX_Q];
	int h, k;

	ssm__compose_exp(m, o, e);
	for (h = 0; h < H; h++) {
		const float *oh = o + h * Q, *gh = gap + h * (Q - 1),
			    *dq = dqn + h * Q, *eh = e + h * Q;
		float *dh = dout + h * Q, acc = 0.0f, all = 0.0f;

		for (k = 0; k < Q; k++)
			all += dq[k];
		dh[mid] = all;
		/* q[k] below the median depends on o[j] for k <= j < mid. */
		for (k = 0; k < mid; k++) {
			float c = oh[k];
			acc += dq[k];
			dh[k] = (c > -8.0f && c < 8.0f) ? -gh[k] * eh[k] * acc
							: 0.0f;
		}
		acc = 0.0f;
		for (k = Q - 1; k > mid; k--) {
			float c = oh[k];
			acc += dq[k];
			dh[k] = (c > -8.0f && c < 8.0f)
				    ? gh[k - 1] * eh[k] * acc
				    : 0.0f;
		}
	}
}

void ssm__head_backward(const ssm_model *m, int M, const float *x,
			const float *rms, const float *dO, float *dx,
			float *hn_ws, float *g_whead, float *g_bhead,
			float *g_gout)
{
	const int d = m->d, HQ = m->HQ;
	int r, i;

	for (r = 0; r < M; r++)
		for (i = 0; i < d; i++)
			hn_ws[r * d + i] = x[r * d + i] * rms[r] * m->g_out[i];
	/* dW_head[HQ][d] += dO^T hn; db += colsum(dO). */
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, HQ, d, M, 1.0f, dO,
		    HQ, hn_ws, d, 1.0f, g_whead, d);
	for (r = 0; r < M; r++)
		for (i = 0; i < HQ; i++)
			g_bhead[i] += dO[r * HQ + i];
	/* dhn[ROWS][d] = dO W_head, kept in hn_ws. */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, d, HQ, 1.0f,
		    dO, HQ, m->w_head, d, 0.0f, hn_ws, d);
	for (r = 0; r < M; r++) {
		const float *xr = x + r * d, *dh = hn_ws + r * d;
		float inv = rms[r];
		double dot = 0.0;

		for (i = 0; i < d; i++) {
			g_gout[i] += dh[i] * xr[i] * inv;
			dot += (double)dh[i] * m->g_out[i] * xr[i];
		}
		/* y = x inv: dx = inv dy - inv^3 x mean(dy x). */
		for (i = 0; i < d; i++)
			dx[r * d + i] =
			    inv * dh[i] * m->g_out[i] -
			    (float)((double)inv * inv * inv * xr[i] * dot / d);
	}
}

void ssm__enc_backward(const ssm_model *m, int M, const float *feat,
		       const float *dx, float *g_win, float *g_bin)
{
	int r, i;

	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m->d, m->F, M,
		    1.0f, dx, m->d, feat, m->F, 1.0f, g_win, m->F);
	for (r = 0; r < M; r++)
		for (i = 0; i < m->d; i++)
			g_bin[i] += dx[r * m->d + i];
}
