/* daemon/fresh.c: see fresh.h. */
#include "daemon/fresh.h"

#include "daemon/server.h"

void srv_forecast_fresh(srv *s, srv_series *se)
{
	ssm_forecast f;

	if (!se->fc_stale || !se->state)
		return;
	f.q = se->fq;
	f.mean = se->fmean;
	/* NaN when the step reset the state, as that step's output was. */
	ssm_model_forecast(s->model, se->state, &f);
	se->fc_stale = 0;
}
