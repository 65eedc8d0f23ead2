/*
 * tests/daemon/test_status_page.c: the HTML status page and its sparklines.
 * The page is polyglot markup, so Python's XML parser (python3 is in
 * deploy/deps.txt) checks that it is well-formed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/status_page.h"
#include "tests/harness.h"

static const float levels[3] = {0.1f, 0.5f, 0.9f};

static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void test_html_escaping(void)
{
	io_tb b;

	io_tb_init(&b);
	srv_html_text(&b, "<script>a&b\"c'd</script>\x01\xff");
	CHECK(strcmp(b.data, "&lt;script&gt;a&amp;b&quot;c&#39;d&lt;/script"
			     "&gt;\xef\xbf\xbd\xef\xbf\xbd") == 0);
	io_tb_release(&b);
}

/* Every coordinate pair "x,y" or "x y" inside the svg lies in the box. */
static void check_points_inside(const char *svg, int w, int h)
{
	const char *p = svg;
	int pairs = 0;

	while ((p = strpbrk(p, "ML0123456789-")) != NULL) {
		double x, y;
		char sep;
		int used = 0;
		if (*p == 'M' || *p == 'L')
			p++;
		if (sscanf(p, "%lf%c%lf%n", &x, &sep, &y, &used) == 3 &&
		    (sep == ',' || sep == ' ') && used > 0 &&
		    strchr(p, '"') > p + used) {
			pairs++;
			if (x < -0.05 || x > w + 0.05 || y < -0.05 ||
			    y > h + 0.05)
				th_fail(__FILE__, __LINE__, "outside: %g,%g", x,
					y);
			p += used;
		} else {
			p = strchr(p, '"') ? strchr(p, '"') + 1 : p + 1;
		}
	}
	CHECK(pairs > 0);
}

static void test_sparkline_geometry(void)
{
	double t[30], v[30];
	float q[5 * 3], mean[5];
	io_chart c;
	io_tb b;
	const char *band, *hist;
	int i;

	for (i = 0; i < 30; i++) {
		t[i] = 1000 + 60 * i;
		v[i] = i == 10 ? NAN : sin(i * 0.3) * 5 + 20;
	}
	for (i = 0; i < 5; i++) {
		q[i * 3 + 0] = 15 - i;
		q[i * 3 + 1] = 20;
		q[i * 3 + 2] = 25 + i;
		mean[i] = 20;
	}
	memset(&c, 0, sizeof c);
	c.t = t;
	c.v = v;
	c.n = 30;
	c.H = 5;
	c.Q = 3;
	c.levels = levels;
	c.q = q;
	c.mean = mean;
	c.origin_t = t[29];
	c.step_s = 60;
	io_tb_init(&b);
	srv_status_sparkline(&b, &c, 240, 44);
	CHECK(strncmp(b.data, "<svg ", 5) == 0);
	CHECK(strcmp(b.data + b.len - 6, "</svg>") == 0);
	band = strstr(b.data, "class=\"band\" points=\"");
	hist = strstr(b.data, "class=\"hist\" d=\"M");
	CHECK(band && hist);
	/* 5 horizons up and back: 10 points. */
	if (band)
		CHECK_EQ_INT(count(band, ",") - count(strstr(band, "/>"), ","),
			     10);
	/* The NaN at i = 10 splits the history into two pen-down runs. */
	if (hist)
		CHECK_EQ_INT(count(hist, "M"), 2);
	/* The forecast ends at the right edge. */
	CHECK(strstr(b.data, "240.0,") != NULL);
	check_points_inside(b.data + 5, 240, 44);
	io_tb_release(&b);
}

static void example(io_tb *b, srv_status_series *s, double *t, double *v,
		    float *q)
{
	srv_status st;
	int i;

	for (i = 0; i < 20; i++) {
		t[i] = 1.7e9 + 10 * i;
		v[i] = i;
	}
	for (i = 0; i < 4; i++) {
		q[i * 3] = 18;
		q[i * 3 + 1] = 20 + i;
		q[i * 3 + 2] = 22 + 2 * i;
	}
	memset(s, 0, 3 * sizeof *s);
	s[0].name = "web.<b>latency</b>;dc=\"eu\"";
	s[0].chart = (io_chart){t, v, 20, 4, 3, levels, q, NULL, t[19], 10};
	s[0].anomaly = 3.25f;
	s[0].samples = 20;
	s[0].anomalies = 2;
	s[1].name = "db.qps";
	s[1].chart = (io_chart){t, v, 20, 4, 3, levels, q, NULL, t[19], 10};
	s[1].anomaly = 7.5f;
	s[2].name = "new.series";
	s[2].chart = (io_chart){t, v, 2, 0, 0, NULL, NULL, NULL, 0, 0};
	memset(&st, 0, sizeof st);
	st.version = "0.1.0";
	st.model = "default & tiny";
	st.now = 1.7e9 + 3723;
	st.start_time_s = 1.7e9;
	st.series = 10;
	st.samples = 1234;
	st.dropped = 5;
	st.s = s;
	st.n = 3;
	st.refresh_s = 10;
	srv_status_render(b, &st);
}

static void test_page_content(void)
{
	srv_status_series s[3];
	double t[20], v[20];
	float q[12];
	io_tb b;
	const char *a1, *a2;

	io_tb_init(&b);
	example(&b, s, t, v, q);
	CHECK(io_tb_ok(&b));
	CHECK(strstr(b.data,
		     "web.&lt;b&gt;latency&lt;/b&gt;;dc=&quot;eu&quot;") !=
	      NULL);
	CHECK(strstr(b.data, "<b>latency") == NULL);
	CHECK(strstr(b.data, "default &amp; tiny") != NULL);
	CHECK(strstr(b.data, "up 1h 2m") != NULL);
	CHECK(strstr(b.data, "Series (3 shown of 10)") != NULL);
	CHECK(strstr(b.data, "Anomalies now (2)") != NULL);
	/* Highest score first in the anomaly table. */
	a1 = strstr(b.data, ">7.5<");
	a2 = strstr(b.data, ">3.25<");
	CHECK(a1 && a2 && a1 < a2);
	/* Next-step median and band of the first horizon. */
	CHECK(strstr(b.data, ">20 <span class=\"meta\">[18, 22]</span>") !=
	      NULL);
	CHECK(strstr(b.data, "learning") != NULL);
	CHECK_EQ_INT(count(b.data, "<svg "), 3);
	CHECK_EQ_INT(count(b.data, "</svg>"), 3);
	CHECK_EQ_INT(count(b.data, "<tr>"), count(b.data, "</tr>"));
	/* Self-contained: no script, no resource from elsewhere. */
	CHECK(strstr(b.data, "<script") == NULL);
	CHECK(strstr(b.data, "src=") == NULL);
	CHECK(strstr(b.data, "href=") == NULL);
	CHECK(strstr(b.data, "<meta http-equiv=\"refresh\" content=\"10\"/>") !=
	      NULL);
	io_tb_release(&b);
}

static void test_page_is_well_formed_xml(void)
{
	char path[] = "/tmp/statecast_status_XXXXXX";
	char cmd[256];
	srv_status_series s[3];
	double t[20], v[20];
	float q[12];
	io_tb b;
	FILE *f;
	int fd;

	io_tb_init(&b);
	example(&b, s, t, v, q);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	fwrite(b.data, 1, b.len, f);
	fclose(f);
	snprintf(cmd, sizeof cmd,
		 "/usr/bin/python3 -c 'import sys, xml.dom.minidom as m; "
		 "m.parse(sys.argv[1])' %s",
		 path);
	CHECK(system(cmd) == 0);
	unlink(path);
	io_tb_release(&b);
}

static void test_empty_page(void)
{
	srv_status st;
	io_tb b;

	memset(&st, 0, sizeof st);
	io_tb_init(&b);
	srv_status_render(&b, &st);
	CHECK(io_tb_ok(&b));
	CHECK(strstr(b.data, "Anomalies now (0)") != NULL);
	CHECK(strstr(b.data, "Series (0 shown)") != NULL);
	CHECK(strstr(b.data, "http-equiv") == NULL);
	io_tb_release(&b);
}

int main(void)
{
	TH_RUN(test_html_escaping);
	TH_RUN(test_sparkline_geometry);
	TH_RUN(test_page_content);
	TH_RUN(test_page_is_well_formed_xml);
	TH_RUN(test_empty_page);
	return th_summary();
}
