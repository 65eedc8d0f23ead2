/*
 * config/cfg_int.h: internals shared by the config module (not a public API).
 */
#ifndef STATECAST_CONFIG_CFG_INT_H
#define STATECAST_CONFIG_CFG_INT_H

#include "config/cfg.h"

/*
 * Longest string value, in bytes without the NUL: bounded so that the
 * printers' buffers always hold a value whole (a truncated value would not
 * load back; fuzz_config found it). Sockets and paths fit easily.
 */
#define CFG__STR_MAX 1023
/* A buffer that holds any formatted value. */
#define CFG__VALUE_BUF (CFG__STR_MAX + 1)

/* Report through report (or stderr when NULL), printf-style. */
void cfg__report(cfg_report_fn report, void *ctx, const char *file, int line,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Parse value into the field e describes inside base (a cfg or a
   cfg_series); on refusal report "name: expected ..., got ...". */
int cfg__set_field(void *base, const cfg_entry *e, const char *value,
		   const char *file, int line, cfg_report_fn report, void *ctx);

/* The field's value as text that cfg__set_field accepts back. */
int cfg__format_field(const void *base, const cfg_entry *e, char *buf,
		      size_t cap);

#endif
