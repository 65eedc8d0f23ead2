/* tools/eval_report.c: see eval_report.h. */
#include "tools/eval_report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/plot.h"

/* History drawn before the origin: enough to see a few seasons. */
#define HIST_MIN 48

struct eval_report {
	char *dir;
	FILE *md;
	const char *method;
	int n, better;	  /* series, of which better than their anchor */
	double log_ratio; /* sum of log(mase / anchor mase) */
};

int eval_report_open(eval_report **out, const char *dir, const char *method)
{
	eval_report *r;
	char path[4096];

	*out = NULL;
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "eval: cannot create %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	r = calloc(1, sizeof *r);
	if (!r || !(r->dir = strdup(dir))) {
		free(r);
		return -1;
	}
	snprintf(path, sizeof path, "%s/report.md", dir);
	r->md = fopen(path, "w");
	if (!r->md) {
		fprintf(stderr, "eval: cannot write %s: %s\n", path,
			strerror(errno));
		free(r->dir);
		free(r);
		return -1;
	}
	r->method = method;
	fprintf(r->md,
		"# statecast eval: %s\n\n"
		"Rolling-origin scores by EVAL.md (MASE and MSIS: lower is "
		"better; coverage of the 80%% interval: 0.8 is right). Each "
		"chart shows the last origin: history (blue), the forecast "
		"median and 80%% band (orange), what followed (dots), and the "
		"better anchor on that series by MASE (green, dashed).\n\n"
		"| series | MASE | MSIS | coverage | best anchor | anchor MASE "
		"| MASE / anchor | chart |\n"
		"|---|---|---|---|---|---|---|---|\n",
		method);
	*out = r;
	return 0;
}

/* A file name from a series name: [A-Za-z0-9._-] kept, others '_'. */
static void file_name(char *out, size_t size, const char *name)
{
	size_t i;

	for (i = 0; name[i] && i + 5 < size; i++) {
		char c = name[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			 c == '-';
		out[i] = ok && !(i == 0 && c == '.') ? c : '_';
	}
	snprintf(out + i, size - i, ".svg");
}

int eval_report_series(eval_report *r, const eval_series *s,
		       const eval_report_row *row)
{
	static const float levels[3] = {0.1f, 0.5f, 0.9f};
	int H = s->horizon, h0, ntruth, h, rc;
	char file[200], path[4500], title[300];
	float *q, *anchor;
	plot_data d;

	q = malloc((size_t)H * 3 * sizeof *q);
	anchor = malloc((size_t)H * sizeof *anchor);
	if (!q || !anchor) {
		free(q);
		free(anchor);
		return -1;
	}
	for (h = 0; h < H; h++) {
		q[h * 3] = (float)row->lo[h];
		q[h * 3 + 1] = (float)row->point[h];
		q[h * 3 + 2] = (float)row->hi[h];
		anchor[h] = (float)row->anchor_point[h];
	}
	h0 = 4 * H > HIST_MIN ? 4 * H : HIST_MIN;
	if (s->period > 1 && 3 * s->period > h0)
		h0 = 3 * s->period;
	h0 = row->origin + 1 > h0 ? row->origin + 1 - h0 : 0;
	ntruth = s->n - 1 - row->origin < H ? s->n - 1 - row->origin : H;
	memset(&d, 0, sizeof d);
	d.chart =
	    (io_chart){s->t + h0, s->y + h0, (size_t)(row->origin + 1 - h0),
		       H,	  3,	     levels,
		       q,	  NULL,	     s->t[row->origin],
		       s->step_s};
	snprintf(title, sizeof title, "%s: %s vs %s (MASE %.3f vs %.3f)",
		 s->name, r->method, row->anchor, row->mase, row->anchor_mase);
	d.title = title;
	d.truth_t = s->t + row->origin + 1;
	d.truth_v = s->y + row->origin + 1;
	d.ntruth = ntruth > 0 ? (size_t)ntruth : 0;
	d.anchor = anchor;
	d.anchor_name = row->anchor;
	file_name(file, sizeof file, s->name);
	snprintf(path, sizeof path, "%s/%s", r->dir, file);
	rc = plot_write(&d, path, 900, 380);
	free(q);
	free(anchor);
	if (rc) {
		fprintf(stderr, "eval: %s: %s\n", path, plot_strerror(rc));
		return -1;
	}
	fprintf(r->md,
		"| %s | %.4f | %.4f | %.3f | %s | %.4f | %.3f | "
		"[%s](%s) |\n",
		s->name, row->mase, row->msis, row->coverage, row->anchor,
		row->anchor_mase, row->mase / row->anchor_mase, file, file);
	r->n++;
	r->better += row->mase < row->anchor_mase;
	r->log_ratio += log(row->mase / row->anchor_mase);
	return 0;
}

int eval_report_close(eval_report *r)
{
	int rc = 0;

	if (!r)
		return 0;
	if (r->n)
		fprintf(r->md,
			"\n%s beats its series' best anchor on %d of %d "
			"series; geometric mean of MASE / anchor MASE: "
			"%.4f.\n",
			r->method, r->better, r->n, exp(r->log_ratio / r->n));
	if (fclose(r->md) != 0)
		rc = -1;
	free(r->dir);
	free(r);
	plot_shutdown();
	return rc;
}
