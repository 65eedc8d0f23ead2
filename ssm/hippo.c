/*
 * ssm/hippo.c: HiPPO LegT/LegS matrices and the diagonalised LegS normal part
 * used by the S4D-LegS initialisation (see hippo.h). Setup code, double.
 */
#include "ssm/hippo.h"

#include <complex.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

#include "ssm/model.h"

void ssm_hippo_legt(int N, double theta, double *A, double *B)
{
	int n, k;

	for (n = 0; n < N; n++) {
		for (k = 0; k < N; k++) {
			double s =
			    n < k ? -1.0 : ((n - k + 1) % 2 ? -1.0 : 1.0);
			A[(size_t)n * N + k] = (2 * n + 1) * s / theta;
		}
		B[n] = (2 * n + 1) * (n % 2 ? -1.0 : 1.0) / theta;
	}
}

void ssm_hippo_legs(int N, double *A, double *B)
{
	int n, k;

	for (n = 0; n < N; n++) {
		for (k = 0; k < N; k++) {
			double v = 0.0;
			if (n > k)
				v = -sqrt((2.0 * n + 1.0) * (2.0 * k + 1.0));
			else if (n == k)
				v = -(n + 1.0);
			A[(size_t)n * N + k] = v;
		}
		B[n] = sqrt(2.0 * n + 1.0);
	}
}

int ssm_hippo_legs_diag(int N, double *a_re, double *a_im, double *b_re,
			double *b_im)
{
	int M = 2 * N, n, k, rc = 0;
	double complex *H;
	double *w;

	if (N < 1)
		return SSM_EINVAL;
	H = malloc((size_t)M * M * sizeof(*H));
	w = malloc((size_t)M * sizeof(*w));
	if (!H || !w) {
		rc = SSM_ENOMEM;
		goto out;
	}
	/* S_nk = -sqrt((2n+1)(2k+1))/2 below the diagonal, + above; -iS is
	 * Hermitian with real eigenvalues w, and S v = i w v. */
	for (n = 0; n < M; n++)
		for (k = 0; k < M; k++) {
			double s =
			    0.5 * sqrt((2.0 * n + 1.0) * (2.0 * k + 1.0));
			double snk = n > k ? -s : (n < k ? s : 0.0);
			H[(size_t)n * M + k] = -I * snk;
		}
	if (LAPACKE_zheevd(LAPACK_ROW_MAJOR, 'V', 'U', M, H, M, w) != 0) {
		rc = SSM_ESHAPE;
		goto out;
	}
	/* Ascending eigenvalues: the last N are the positive ones. */
	for (n = 0; n < N; n++) {
		int j = N + n;
		a_re[n] = -0.5;
		a_im[n] = w[j];
		if (b_re && b_im) {
			double complex acc = 0.0;
			for (k = 0; k < M; k++)
				acc += conj(H[(size_t)k * M + j]) *
				       sqrt(2.0 * k + 1.0);
			b_re[n] = creal(acc);
			b_im[n] = cimag(acc);
		}
	}
out:
	free(H);
	free(w);
	return rc;
}
