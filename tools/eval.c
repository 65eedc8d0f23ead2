/*
 * tools/eval.c: EVAL.md's protocol (origins, scale, scores) and its data
 * directory format. The formulas mirror baselines.R line for line so that the
 * anchors in baselines-public.tsv and `statecast eval` measure the same thing.
 */
#include "tools/eval.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/grow.h"

int eval_origins_of(int n, int H, eval_origins *o)
{
	int E = n / 4 > H ? n / 4 : H;
	int span = E - H + 1, s = (span + 29) / 30;

	if (s < 1)
		s = 1;
	o->E = E;
	o->first = n - E;
	o->step = s;
	o->count = o->first >= 1 ? (n - H - o->first) / s + 1 : 0;
	return o->count > 0 ? 0 : -1;
}

double eval_scale(const double *y, int n, int period, int E)
{
	int upto = n - E, mm = upto > 2 * period ? period : 1, i;
	double s = 0;

	for (i = mm; i < upto; i++)
		s += fabs(y[i] - y[i - mm]);
	return upto > mm ? s / (upto - mm) : NAN;
}

void eval_score_add(eval_score *s, const double *truth, const double *point,
		    const double *lo, const double *hi, int H)
{
	int h;

	for (h = 0; h < H; h++) {
		double y = truth[h];

		s->abs_err += fabs(y - point[h]);
		if (lo && hi) {
			double is = hi[h] - lo[h];

			if (y < lo[h])
				is += 10.0 * (lo[h] - y);
			if (y > hi[h])
				is += 10.0 * (y - hi[h]);
			s->int_score += is;
			s->inside += y >= lo[h] && y <= hi[h];
		}
		s->cells++;
	}
}

void eval_score_final(const eval_score *s, double scale, double *mase,
		      double *msis, double *coverage)
{
	double c = s->cells > 0 ? (double)s->cells : NAN;

	*mase = s->abs_err / c / scale;
	*msis = s->int_score / c / scale;
	*coverage = s->inside / c;
}

/* ---- files ---- */

static char *slurp(const char *path, char *errbuf, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (!f) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)len + 1);
		if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len)
			buf[len] = '\0';
		else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	if (!buf)
		snprintf(errbuf, errlen, "%s: read failed", path);
	return buf;
}

/* Splits line in place on sep; returns the number of fields (<= max). */
static int split(char *line, char sep, char **f, int max)
{
	int n = 0;
	char *p = line;

	while (n < max) {
		char *e = strchr(p, sep);

		f[n++] = p;
		if (!e)
			break;
		*e = '\0';
		p = e + 1;
	}
	return n;
}

static char *next_line(char **cur)
{
	char *l = *cur, *e;

	if (!l || !*l)
		return NULL;
	e = strchr(l, '\n');
	if (e) {
		*e = '\0';
		*cur = e + 1;
	} else {
		*cur = l + strlen(l);
	}
	if (e && e > l && e[-1] == '\r')
		e[-1] = '\0';
	return l;
}

static int col_of(char **f, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(f[i], name) == 0)
			return i;
	return -1;
}

static int load_csv(const char *dir, eval_series *s, char *errbuf,
		    size_t errlen)
{
	char path[4096], *buf, *cur, *line, *f[4];
	size_t cap = 1024, n = 0, c;

	snprintf(path, sizeof path, "%s/%s.csv", dir, s->name);
	buf = slurp(path, errbuf, errlen);
	if (!buf)
		return -1;
	cur = buf;
	line = next_line(&cur); /* header t,value */
	s->t = malloc(sizeof(double) * cap);
	s->y = malloc(sizeof(double) * cap);
	while (s->t && s->y && (line = next_line(&cur))) {
		char *end1, *end2;

		if (!*line)
			continue;
		if (split(line, ',', f, 4) != 2)
			break;
		/* t and y share one capacity: grow both from it. */
		c = cap;
		if (io_grow(&s->t, &c, n + 1, sizeof *s->t, 1024))
			break;
		c = cap;
		if (io_grow(&s->y, &c, n + 1, sizeof *s->y, 1024))
			break;
		cap = c;
		s->t[n] = strtod(f[0], &end1);
		s->y[n] = strtod(f[1], &end2);
		if (end1 == f[0] || end2 == f[1])
			break;
		n++;
	}
	free(buf);
	if (line || !s->t || !s->y) {
		snprintf(errbuf, errlen, "%s: bad line %zu", path, n + 2);
		return -1;
	}
	if (s->n < 0 || n != (size_t)s->n) {
		snprintf(errbuf, errlen, "%s: %zu values, manifest says %d",
			 path, n, s->n);
		return -1;
	}
	return 0;
}

/*
 * Reads a whole TSV file and splits its header into f[0 .. *nf - 1]; *cur
 * points at the first data line. Returns the buffer (free() it) or NULL.
 */
static char *tsv_open(const char *path, char **cur, char **f, int *nf,
		      char *errbuf, size_t errlen)
{
	char *buf = slurp(path, errbuf, errlen), *line;

	if (!buf)
		return NULL;
	*cur = buf;
	line = next_line(cur);
	*nf = line ? split(line, '\t', f, 16) : 0;
	return buf;
}

int eval_data_load(const char *dir, eval_data *d, char *errbuf, size_t errlen)
{
	char path[4096], *buf, *cur, *line, *f[16];
	int nf, c_name, c_per, c_h, c_step, c_n;
	size_t cap = 0;

	memset(d, 0, sizeof *d);
	snprintf(path, sizeof path, "%s/manifest.tsv", dir);
	buf = tsv_open(path, &cur, f, &nf, errbuf, errlen);
	if (!buf)
		return -1;
	c_name = col_of(f, nf, "name");
	c_per = col_of(f, nf, "period");
	c_h = col_of(f, nf, "horizon");
	c_step = col_of(f, nf, "step_s");
	c_n = col_of(f, nf, "n");
	if (c_name < 0 || c_per < 0 || c_h < 0 || c_step < 0 || c_n < 0) {
		snprintf(errbuf, errlen, "%s: header lacks a column", path);
		free(buf);
		return -1;
	}
	while ((line = next_line(&cur))) {
		eval_series *s;

		if (!*line)
			continue;
		if (split(line, '\t', f, 16) != nf) {
			snprintf(errbuf, errlen, "%s: ragged row", path);
			goto fail;
		}
		if (io_grow(&d->s, &cap, (size_t)d->count + 1, sizeof *d->s,
			    32))
			goto fail;
		s = &d->s[d->count];
		memset(s, 0, sizeof *s);
		snprintf(s->name, sizeof s->name, "%s", f[c_name]);
		s->period = atoi(f[c_per]);
		s->horizon = atoi(f[c_h]);
		s->step_s = strtod(f[c_step], NULL);
		s->n = atoi(f[c_n]);
		d->count++;
		if (s->period < 1 || s->horizon < 1 || s->n < 2 ||
		    !(s->step_s > 0)) {
			snprintf(errbuf, errlen, "%s: bad row for %s", path,
				 s->name);
			goto fail;
		}
		if (load_csv(dir, s, errbuf, errlen) < 0)
			goto fail;
	}
	free(buf);
	return 0;
fail:
	free(buf);
	eval_data_free(d);
	return -1;
}

void eval_data_free(eval_data *d)
{
	int i;

	for (i = 0; i < d->count; i++) {
		free(d->s[i].t);
		free(d->s[i].y);
	}
	free(d->s);
	memset(d, 0, sizeof *d);
}

static double num_or_nan(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	return end == s ? NAN : v;
}

int eval_baselines_load(const char *path, eval_baseline **rows, int *count,
			char *errbuf, size_t errlen)
{
	char *buf, *cur, *line, *f[16];
	int nf, cs, cm, co, cmase, cmsis, ccov, cfit;
	size_t cap = 0;

	*rows = NULL;
	*count = 0;
	buf = tsv_open(path, &cur, f, &nf, errbuf, errlen);
	if (!buf)
		return -1;
	cs = col_of(f, nf, "series");
	cm = col_of(f, nf, "method");
	co = col_of(f, nf, "origins");
	cmase = col_of(f, nf, "mase");
	cmsis = col_of(f, nf, "msis");
	ccov = col_of(f, nf, "coverage");
	cfit = col_of(f, nf, "fit_s");
	if (cs < 0 || cm < 0 || cmase < 0) {
		snprintf(errbuf, errlen, "%s: header lacks series/method/mase",
			 path);
		free(buf);
		return -1;
	}
	while ((line = next_line(&cur))) {
		eval_baseline *b;

		if (!*line)
			continue;
		if (split(line, '\t', f, 16) != nf)
			continue;
		if (io_grow(rows, &cap, (size_t)*count + 1, sizeof **rows,
			    128)) {
			free(buf);
			free(*rows);
			*rows = NULL;
			snprintf(errbuf, errlen, "out of memory");
			return -1;
		}
		b = &(*rows)[(*count)++];
		snprintf(b->series, sizeof b->series, "%s", f[cs]);
		snprintf(b->method, sizeof b->method, "%s", f[cm]);
		b->origins = co >= 0 ? atoi(f[co]) : 0;
		b->mase = num_or_nan(f[cmase]);
		b->msis = cmsis >= 0 ? num_or_nan(f[cmsis]) : NAN;
		b->coverage = ccov >= 0 ? num_or_nan(f[ccov]) : NAN;
		b->fit_s = cfit >= 0 ? num_or_nan(f[cfit]) : NAN;
	}
	free(buf);
	return 0;
}

const eval_baseline *eval_baseline_find(const eval_baseline *rows, int count,
					const char *series, const char *method)
{
	int i;

	for (i = 0; i < count; i++)
		if (strcmp(rows[i].series, series) == 0 &&
		    strcmp(rows[i].method, method) == 0)
			return &rows[i];
	return NULL;
}
