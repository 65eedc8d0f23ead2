/* tests/io/test_progress.c: plain lines, bar redraws, rate limits, sink. */
#include <stdlib.h>
#include <string.h>

#include "io/progress.h"
#include "tests/harness.h"

static double fake_t;
static double fake_now(void)
{
	return fake_t;
}

static char sink_text[256];
static int sink_calls;
static void sink(void *arg, const char *text)
{
	(void)arg;
	sink_calls++;
	snprintf(sink_text, sizeof sink_text, "%s", text);
}

/* Starts a progress on an in-memory stream with the fake clock at 0. */
static void start(io_progress *p, FILE *f, uint64_t total, int mode)
{
	fake_t = 0;
	io_progress_init(p, f, "train", total);
	p->now = fake_now;
	p->t0 = p->t_line = 0;
	p->t_bar = -1;
	io_progress_set_mode(p, mode);
}

static void test_lines_rate_limited(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	io_progress p;
	int i, lines = 0;

	start(&p, f, 1000, IO_PROGRESS_LINES);
	/* 1000 items over 20 s: a line every 5 s, not one per item. */
	for (i = 1; i <= 1000; i++) {
		fake_t = i * 0.02;
		io_progress_update(&p, (uint64_t)i);
	}
	io_progress_done(&p);
	fclose(f);
	for (i = 0; i < (int)len; i++)
		lines += buf[i] == '\n';
	CHECK_EQ_INT(lines, 5); /* t=5,10,15,20 and the closing line */
	CHECK(strstr(buf, "train: 250/1000 (25%), 50/s, eta 15s\n") != NULL);
	CHECK(strstr(buf, "train: done 1000 in 20.0s (50/s)\n") != NULL);
	CHECK(strchr(buf, '\r') == NULL);
	free(buf);
}

static void test_bar_redraws_in_place(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	io_progress p;
	int i, cr = 0, nl = 0;

	start(&p, f, 100, IO_PROGRESS_BAR);
	for (i = 1; i <= 100; i++) {
		fake_t = i * 0.0625; /* exact in binary: every 2nd redraws */
		io_progress_update(&p, (uint64_t)i);
	}
	io_progress_done(&p);
	fclose(f);
	for (i = 0; i < (int)len; i++) {
		cr += buf[i] == '\r';
		nl += buf[i] == '\n';
	}
	CHECK_EQ_INT(cr, 51); /* i = 1, 3, ..., 99 and the closing clear */
	CHECK_EQ_INT(nl, 1);
	CHECK(strstr(buf, "[############............] train: 51/100") != NULL);
	CHECK(strstr(buf, "train: done 100 in 6.2s") != NULL);
	free(buf);
}

static void test_unknown_total_detail_and_sink(void)
{
	io_progress p;
	char text[256];

	start(&p, NULL, 0, IO_PROGRESS_QUIET);
	p.sink = sink;
	sink_calls = 0;
	fake_t = 2;
	io_progress_detail(&p, "loss %.2f", 0.5);
	io_progress_update(&p, 10);
	CHECK_EQ_INT(sink_calls, 0); /* before the interval */
	io_progress_format(&p, text, sizeof text);
	CHECK(strcmp(text, "train: 10, 5/s, loss 0.50") == 0);
	fake_t = 6;
	io_progress_update(&p, 12);
	CHECK_EQ_INT(sink_calls, 1);
	CHECK(strcmp(sink_text, "train: 12, 2/s, loss 0.50") == 0);
	io_progress_done(&p);
	CHECK_EQ_INT(sink_calls, 2);
	CHECK(strcmp(sink_text, "train: done 12 in 6.0s (2/s), loss 0.50") ==
	      0);
}

static void test_long_eta_format(void)
{
	io_progress p;
	char text[256];

	start(&p, NULL, 100000, IO_PROGRESS_QUIET);
	fake_t = 10;
	p.done = 100; /* 10/s: 99900 left = 2h46m30s */
	io_progress_format(&p, text, sizeof text);
	CHECK(strcmp(text, "train: 100/100000 (0%), 10/s, eta 2h46m") == 0);
}

int main(void)
{
	TH_RUN(test_lines_rate_limited);
	TH_RUN(test_bar_redraws_in_place);
	TH_RUN(test_unknown_total_detail_and_sink);
	TH_RUN(test_long_eta_format);
	return th_summary();
}
