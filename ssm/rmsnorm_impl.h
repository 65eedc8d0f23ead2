/*
 * ssm/rmsnorm_impl.h: RMSNorm over `real` (forward and backward of one row),
 * shared by the layer templates (s4d_impl.h, mamba_impl.h). Static functions
 * over the `real` of the including translation unit (one type per unit).
 *
 * xn = u * r * w with r = (mean(u^2) + 1e-5)^-1/2 (as the Mamba reference).
 */
#ifndef SSM_RMSNORM_IMPL_INCLUDED
#define SSM_RMSNORM_IMPL_INCLUDED

#include <math.h>

/* One row of n: writes xn, returns r. */
static real rmsnorm(int n, const real *u, const real *w, real *xn)
{
	/* Eight partial sums (lane j takes i = j mod 8), joined pairwise: a
	 * fixed order, so every path gets the same bits, that vectorizes,
	 * where one running sum was a chain of n dependent adds (a tenth of
	 * an S4D step at H = 32). */
	real acc[8] = {0}, ss, r;
	int i, j;

	for (i = 0; i + 8 <= n; i += 8)
		for (j = 0; j < 8; j++)
			acc[j] += u[i + j] * u[i + j];
	for (j = 0; i < n; i++, j++)
		acc[j] += u[i] * u[i];
	ss = ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
	     ((acc[4] + acc[5]) + (acc[6] + acc[7]));
	r = (real)(1.0 / sqrt((double)(ss / (real)n) + 1e-5));
	for (i = 0; i < n; i++)
		xn[i] = u[i] * r * w[i];
	return r;
}

/* Backward of one row given dxn and the saved r: dw += dxn u r, and
 * du = dres + r (dxn w - u r^2 mean(dxn w u)) (dres: the residual path). */
static void rmsnorm_backward(int n, const real *u, const real *w, real r,
			     const real *dxn, const real *dres, real *du,
			     real *dw)
{
	real dot = 0;
	int i;

	for (i = 0; i < n; i++) {
		dw[i] += dxn[i] * u[i] * r;
		dot += dxn[i] * w[i] * u[i];
	}
	for (i = 0; i < n; i++)
		du[i] = dres[i] +
			r * (dxn[i] * w[i] - u[i] * r * r * dot / (real)n);
}

#endif
