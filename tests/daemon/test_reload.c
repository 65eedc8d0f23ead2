/*
 * tests/daemon/test_reload.c: srv_settings_from (daemon/reload.c) maps
 * store.wal_size onto the store's checkpoint bound and the WAL file it
 * keeps (1.25x); 0 checkpoints by time only and keeps the default file.
 */
#include "config/cfg.h"
#include "daemon/reload.h"
#include "io/store.h"
#include "tests/harness.h"

static void settings_with(const char *kv, srv_settings *t)
{
	cfg c;

	CHECK_EQ_INT(cfg_init(&c), CFG_OK);
	if (kv)
		CHECK_EQ_INT(cfg_override(&c, kv, NULL, NULL), CFG_OK);
	srv_settings_from(&c, t);
	cfg_release(&c);
}

static void test_wal_size(void)
{
	srv_settings t;
	store_opts d;

	store_opts_default(&d);
	settings_with(NULL, &t);
	CHECK(t.store.checkpoint_bytes == d.checkpoint_bytes);
	CHECK(t.store.journal_size_limit == d.journal_size_limit);
	CHECK(d.checkpoint_bytes == (int64_t)256 << 20);
	CHECK(d.journal_size_limit == (int64_t)320 << 20);
	settings_with("store.wal_size=1G", &t);
	CHECK(t.store.checkpoint_bytes == (int64_t)1 << 30);
	CHECK(t.store.journal_size_limit == (int64_t)1280 << 20);
	settings_with("store.wal_size=0", &t);
	CHECK(t.store.checkpoint_bytes == 0);
	CHECK(t.store.journal_size_limit == d.journal_size_limit);
}

int main(void)
{
	TH_RUN(test_wal_size);
	return th_summary();
}
