/*
 * tests/tools/test_plot.c: plot_write() makes a PNG of the asked size and
 * an SVG that parses as XML, with the band and lines drawn where the chart
 * says (pixel colours are checked in the PNG).
 */
#include <cairo.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tools/plot.h"

static const float levels[3] = {0.1f, 0.5f, 0.9f};
static double t[100], v[100], tt[10], tv[10];
static float q[10 * 3], anchor[10];

static void example(plot_data *d)
{
	int i;

	for (i = 0; i < 100; i++) {
		t[i] = 1.7e9 + 60 * i;
		v[i] = i == 50 ? NAN : 10 + 3 * sin(i * 0.2);
	}
	for (i = 0; i < 10; i++) {
		q[i * 3] = 8 - 0.2f * i;
		q[i * 3 + 1] = 10;
		q[i * 3 + 2] = 12 + 0.2f * i;
		anchor[i] = 11;
		tt[i] = t[99] + 60 * (i + 1);
		tv[i] = 10.5;
	}
	memset(d, 0, sizeof *d);
	d->chart = (io_chart){t, v, 100, 10, 3, levels, q, NULL, t[99], 60};
	d->title = "cpu.load;host=a & <b>";
	d->truth_t = tt;
	d->truth_v = tv;
	d->ntruth = 10;
	d->anchor = anchor;
	d->anchor_name = "seasonal naive";
}

static void tmpname(char *buf, size_t n, const char *ext)
{
	static int k;
	snprintf(buf, n, "/tmp/statecast_plot_%d_%d%s", (int)getpid(), k++,
		 ext);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void test_png_signature_and_size(void)
{
	static const unsigned char sig[8] = {0x89, 'P',	 'N',  'G',
					     '\r', '\n', 0x1a, '\n'};
	unsigned char head[33];
	char path[128];
	plot_data d;
	FILE *f;

	example(&d);
	tmpname(path, sizeof path, ".png");
	CHECK(plot_write(&d, path, 800, 400) == PLOT_OK);
	f = fopen(path, "rb");
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(fread(head, 1, sizeof head, f) == sizeof head);
	fclose(f);
	CHECK(memcmp(head, sig, 8) == 0);
	CHECK(memcmp(head + 12, "IHDR", 4) == 0);
	CHECK_EQ_INT(be32(head + 16), 800);
	CHECK_EQ_INT(be32(head + 20), 400);
	unlink(path);
}

/* The colour of the PNG's pixel at (x, y) as 0xRRGGBB. */
static unsigned pixel(cairo_surface_t *s, int x, int y)
{
	const unsigned char *data = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	uint32_t p;

	memcpy(&p, data + y * stride + x * 4, 4);
	return p & 0xffffff;
}

static void test_png_draws_band_and_history(void)
{
	char path[128];
	plot_data d;
	cairo_surface_t *s;
	int x, y, band = 0, blue = 0;

	example(&d);
	tmpname(path, sizeof path, ".png");
	CHECK(plot_write(&d, path, 600, 300) == PLOT_OK);
	s = cairo_image_surface_create_from_png(path);
	CHECK(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS);
	CHECK_EQ_INT(cairo_image_surface_get_width(s), 600);
	cairo_surface_flush(s);
	/* The forecast is the last 10 of 110 minutes: right of x ~ 520. */
	for (y = 0; y < 300; y++)
		for (x = 0; x < 600; x++) {
			unsigned c = pixel(s, x, y);
			int r = (int)(c >> 16), g = (int)(c >> 8 & 255),
			    b = (int)(c & 255);
			/* Orange at 30% over white: light orange. */
			if (r > 240 && g > 200 && g < 235 && b > 170 &&
			    b < 215 && x > 500)
				band++;
			/* The history's blue. */
			if (b > 150 && r < 90 && g > 90 && g < 150 && x < 530)
				blue++;
		}
	CHECK(band > 200);
	CHECK(blue > 200);
	cairo_surface_destroy(s);
	unlink(path);
}

static void test_svg_parses(void)
{
	char path[128], cmd[512];
	plot_data d;

	example(&d);
	tmpname(path, sizeof path, ".svg");
	CHECK(plot_write(&d, path, 800, 400) == PLOT_OK);
	snprintf(cmd, sizeof cmd,
		 "/usr/bin/python3 -c 'import sys, xml.dom.minidom as m; "
		 "r = m.parse(sys.argv[1]).documentElement; "
		 "sys.exit(r.tagName != \"svg\" or r.getAttribute(\"width\") "
		 "!= \"800pt\")' %s",
		 path);
	CHECK(system(cmd) == 0);
	unlink(path);
}

static void test_errors_and_empty(void)
{
	char path[128];
	plot_data d;

	example(&d);
	CHECK(plot_write(&d, "/tmp/x.jpg", 800, 400) == PLOT_EFORMAT);
	CHECK(plot_write(&d, "/tmp/x.png", 10, 400) == PLOT_EINVAL);
	CHECK(plot_write(&d, "/nonexistent/dir/x.png", 800, 400) == PLOT_EIO);
	CHECK(plot_write(&d, "/nonexistent/dir/x.svg", 800, 400) == PLOT_EIO);
	CHECK(strstr(plot_strerror(PLOT_EFORMAT), ".svg") != NULL);
	/* No data at all still makes a picture (empty frame). */
	memset(&d, 0, sizeof d);
	tmpname(path, sizeof path, ".png");
	CHECK(plot_write(&d, path, 200, 150) == PLOT_OK);
	unlink(path);
}

int main(void)
{
	TH_RUN(test_png_signature_and_size);
	TH_RUN(test_png_draws_band_and_history);
	TH_RUN(test_svg_parses);
	TH_RUN(test_errors_and_empty);
	plot_shutdown();
	return th_summary();
}
