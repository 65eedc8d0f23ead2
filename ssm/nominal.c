/*
 * ssm/nominal.c: the learned nominal step (see nominal.h).
 */
#include "ssm/nominal.h"

double ssm_nominal_step(const double *t, int n)
{
	double gap[SSM_LEARN_MAX];
	int i, m;

	if (n > SSM_LEARN_MAX)
		n = SSM_LEARN_MAX;
	if (n < 2)
		return 0;
	for (i = 1; i < n; i++)
		gap[i - 1] = t[i] - t[i - 1];
	m = n - 1;
	/* Insertion sort: at most 15 gaps. */
	for (i = 1; i < m; i++) {
		double g = gap[i];
		int j = i;
		while (j > 0 && gap[j - 1] > g) {
			gap[j] = gap[j - 1];
			j--;
		}
		gap[j] = g;
	}
	return gap[(m - 1) / 2];
}
