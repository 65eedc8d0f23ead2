/*
 * io/rpc_forecast.h: the forecast map, as statecastd serves it and as the
 * CLI prints it (one encoder, so `statecast replay` and the daemon's
 * `forecast` cannot differ in shape).
 *
 *   { "series": str, "t": origin (f64, Unix seconds),
 *     "step": nominal step (f64, seconds),
 *     "quantiles": [Q levels (f64)],
 *     "values": [Q arrays of H float32: values[k][h] is level k at horizon
 *                h+1, i.e. the model's q[h * Q + k]],
 *     "mean": [H float32],
 *     "subscription": id   (only in notifications) }
 *
 * Values are float32 on the wire: bit for bit what the model wrote.
 */
#ifndef STATECAST_IO_RPC_FORECAST_H
#define STATECAST_IO_RPC_FORECAST_H

#include <stdint.h>

#include "io/rpc.h"
#include "ssm/model.h"

/* q: H * Q floats, mean: H floats, as ssm_forecast holds them; only the
 * first `horizon` horizons are sent (0 or more than H: all H); sub 0 = no
 * "subscription" key. */
void rpc_put_forecast(rpc_buf *b, const ssm_model *m, const char *series,
		      double t, double step, const float *q, const float *mean,
		      int horizon, uint64_t sub);

#endif
