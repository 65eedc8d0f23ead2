/*
 * io/rpc_forecast.c: the forecast map encoder (see rpc_forecast.h).
 */
#include "io/rpc_forecast.h"

#include <math.h>

void rpc_put_forecast(rpc_buf *b, const ssm_model *m, const char *series,
		      double t, double step, const float *q, const float *mean,
		      int horizon, uint64_t sub)
{
	int H = ssm_model_horizon(m), Q = ssm_model_nquantiles(m);
	const float *lv = ssm_model_quantiles(m);
	int h, k;

	if (horizon > 0 && horizon < H)
		H = horizon;
	rpc_put_map(b, sub ? 7 : 6);
	rpc_put_cstr(b, "series");
	rpc_put_cstr(b, series);
	rpc_put_cstr(b, "t");
	rpc_put_f64(b, t);
	rpc_put_cstr(b, "step");
	rpc_put_f64(b, step);
	rpc_put_cstr(b, "quantiles");
	rpc_put_array(b, (uint32_t)Q);
	/* Levels are nominal (0.1, 0.5, 0.9): sent rounded to 1e-6 rather
	 * than as their float32 approximations (0.100000001). */
	for (k = 0; k < Q; k++)
		rpc_put_f64(b, nearbyint((double)lv[k] * 1e6) / 1e6);
	rpc_put_cstr(b, "values");
	rpc_put_array(b, (uint32_t)Q);
	for (k = 0; k < Q; k++) {
		rpc_put_array(b, (uint32_t)H);
		for (h = 0; h < H; h++)
			rpc_put_f32(b, q[h * Q + k]);
	}
	rpc_put_cstr(b, "mean");
	rpc_put_array(b, (uint32_t)H);
	for (h = 0; h < H; h++)
		rpc_put_f32(b, mean[h]);
	if (sub) {
		rpc_put_cstr(b, "subscription");
		rpc_put_u64(b, sub);
	}
}
