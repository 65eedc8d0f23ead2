/*
 * daemon/log.h: statecastd's log, one line per event on stderr.
 *
 * Every line starts with a syslog priority prefix ("<6>" for info) so that
 * journald and sd-daemon aware collectors keep the level without parsing
 * text. The daemon logs events (a listener bound, a client disconnected, a
 * series reset), never a line per sample. Not thread-safe beyond what one
 * fprintf of a whole line gives: the loop thread is the only writer.
 */
#ifndef STATECAST_DAEMON_LOG_H
#define STATECAST_DAEMON_LOG_H

#include <syslog.h> /* LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG */

/* Lines with a priority above this (numerically) are not written. */
void srv_log_set_level(int max_priority);

void srv_log(int priority, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
