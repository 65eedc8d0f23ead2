/*
 * ssm/discretize.c: ZOH and bilinear discretization, diagonal and dense, in
 * double (see discretize.h). Setup code: it may call exp, solve systems and
 * form matrix exponentials; the step path never comes here for gap 1.
 */
#include "ssm/discretize.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "ssm/model.h"

void ssm_disc_mode(int kind, double complex a, double dt, double complex *dA,
		   double complex *E, double complex d[4])
{
	double complex z = dt * a;

	if (kind == SSM_DISC_ZOH) {
		double complex ea = cexp(z), e;

		/* E = (exp(dt a) - 1) / a, which loses digits as dt a -> 0:
		 * there use its Taylor series dt (1 + z/2 + z^2/6 + z^3/24). */
		if (cabs(z) < 1e-4)
			e = dt *
			    (1.0 + z / 2.0 + z * z / 6.0 + z * z * z / 24.0);
		else
			e = (ea - 1.0) / a;
		*dA = ea;
		*E = e;
		if (d) {
			d[0] = dt * ea;
			d[1] = a * ea;
			/* dE/da = (dt e^{dt a} - E) / a, with the same series
			 * near 0: dt^2 (1/2 + z/3 + z^2/8 + z^3/30). */
			if (cabs(z) < 1e-4)
				d[2] = dt * dt *
				       (0.5 + z / 3.0 + z * z / 8.0 +
					z * z * z / 30.0);
			else
				d[2] = (dt * ea - e) / a;
			d[3] = ea;
		}
	} else {
		double complex w = 1.0 / (1.0 - z / 2.0);

		*dA = w * (1.0 + z / 2.0);
		*E = w * dt;
		if (d) {
			/* d dA = w^2 d(z) with z = dt a; E = dt w. */
			d[0] = w * w * dt;
			d[1] = w * w * a;
			d[2] = w * w * dt * dt / 2.0;
			d[3] = w * w;
		}
	}
}

int ssm_disc_diag(int kind, int n, const double *a_re, const double *a_im,
		  const double *b_re, const double *b_im, double dt,
		  double *dA_re, double *dA_im, double *dB_re, double *dB_im)
{
	int i;

	if ((kind != SSM_DISC_ZOH && kind != SSM_DISC_BILINEAR) ||
	    !(dt > 0.0) || n < 0)
		return SSM_EINVAL;
	for (i = 0; i < n; i++) {
		double complex dA, E, dB;

		ssm_disc_mode(kind, a_re[i] + I * a_im[i], dt, &dA, &E, NULL);
		dB = E * (b_re[i] + I * b_im[i]);
		dA_re[i] = creal(dA);
		dA_im[i] = cimag(dA);
		dB_re[i] = creal(dB);
		dB_im[i] = cimag(dB);
	}
	return 0;
}

size_t ssm_expm_ws(int n)
{
	return 5 * (size_t)n * (size_t)n + (size_t)n;
}

int ssm_expm(int n, const double *M, double *E, double *ws)
{
	enum { Q = 8 };
	size_t nn = (size_t)n * (size_t)n;
	double *X = ws, *P = X + nn, *N = P + nn, *D = N + nn, *T = D + nn;
	lapack_int *ipiv = (lapack_int *)(T + nn);
	double norm = 0.0, c = 1.0, scale;
	int i, j, k, s = 0;

	/* 1-norm (max column sum) decides how often to halve. */
	for (j = 0; j < n; j++) {
		double col = 0.0;
		for (i = 0; i < n; i++)
			col += fabs(M[(size_t)i * n + j]);
		if (col > norm)
			norm = col;
	}
	if (!isfinite(norm))
		return SSM_ENONFINITE;
	while (norm > 0.5 && s < 1000) {
		norm /= 2.0;
		s++;
	}
	scale = ldexp(1.0, -s);
	for (i = 0; i < (int)nn; i++)
		X[i] = M[i] * scale;
	/* N = sum c_k X^k, D = sum c_k (-X)^k, c_k the (Q,Q) Pade weights. */
	memset(N, 0, nn * sizeof(*N));
	memset(D, 0, nn * sizeof(*D));
	memset(P, 0, nn * sizeof(*P));
	for (i = 0; i < n; i++)
		N[(size_t)i * n + i] = D[(size_t)i * n + i] =
		    P[(size_t)i * n + i] = 1.0;
	for (k = 1; k <= Q; k++) {
		c *= (double)(Q - k + 1) / (double)((2 * Q - k + 1) * k);
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n,
			    1.0, P, n, X, n, 0.0, T, n);
		memcpy(P, T, nn * sizeof(*P));
		for (i = 0; i < (int)nn; i++) {
			N[i] += c * P[i];
			D[i] += (k & 1 ? -c : c) * P[i];
		}
	}
	if (LAPACKE_dgesv(LAPACK_ROW_MAJOR, n, n, D, n, ipiv, N, n) != 0)
		return SSM_ESHAPE;
	/* Undo the scaling: exp(M) = exp(M / 2^s)^(2^s). */
	for (k = 0; k < s; k++) {
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n,
			    1.0, N, n, N, n, 0.0, T, n);
		memcpy(N, T, nn * sizeof(*N));
	}
	memcpy(E, N, nn * sizeof(*E));
	return 0;
}

size_t ssm_disc_dense_ws(int n)
{
	size_t m = (size_t)n + 1;

	return 2 * m * m + ssm_expm_ws(n + 1);
}

int ssm_disc_dense(int kind, int n, const double *A, const double *B, double dt,
		   double *dA, double *dB, double *ws)
{
	size_t m = (size_t)n + 1;
	int i, j, rc;

	if ((kind != SSM_DISC_ZOH && kind != SSM_DISC_BILINEAR) ||
	    !(dt > 0.0) || n < 1)
		return SSM_EINVAL;
	if (kind == SSM_DISC_ZOH) {
		double *M = ws, *E = M + m * m;

		memset(M, 0, m * m * sizeof(*M));
		for (i = 0; i < n; i++) {
			for (j = 0; j < n; j++)
				M[i * m + j] = dt * A[(size_t)i * n + j];
			M[i * m + n] = dt * B[i];
		}
		rc = ssm_expm((int)m, M, E, E + m * m);
		if (rc)
			return rc;
		for (i = 0; i < n; i++) {
			for (j = 0; j < n; j++)
				dA[(size_t)i * n + j] = E[i * m + j];
			dB[i] = E[i * m + n];
		}
		return 0;
	} else {
		double *L = ws, *R = L + (size_t)n * n;
		lapack_int *ipiv = (lapack_int *)(R + (size_t)n * m);

		for (i = 0; i < n; i++) {
			for (j = 0; j < n; j++) {
				double h = dt / 2.0 * A[(size_t)i * n + j];
				L[(size_t)i * n + j] = (i == j) - h;
				R[i * m + j] = (i == j) + h;
			}
			R[i * m + n] = dt * B[i];
		}
		if (LAPACKE_dgesv(LAPACK_ROW_MAJOR, n, n + 1, L, n, ipiv, R,
				  n + 1) != 0)
			return SSM_ESHAPE;
		for (i = 0; i < n; i++) {
			for (j = 0; j < n; j++)
				dA[(size_t)i * n + j] = R[i * m + j];
			dB[i] = R[i * m + n];
		}
		return 0;
	}
}
