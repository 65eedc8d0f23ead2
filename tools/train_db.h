/*
 * tools/train_db.h: training series from the daemon's SQLite store (see
 * train_db.c for the tables read and how irregular samples are gridded).
 */
#ifndef STATECAST_TOOLS_TRAIN_DB_H
#define STATECAST_TOOLS_TRAIN_DB_H

#include <stddef.h>

#include "ssm/train.h"

typedef struct train_db {
	ssm_series *series; /* [count], y pointing into y[i] */
	double **y;	    /* owned */
	int count;
} train_db;

/* 0, or -1 with err set. Series shorter than 16 grid points are skipped. */
int train_db_load(const char *path, int max_len, train_db *d, char *err,
		  size_t errlen);
void train_db_free(train_db *d);

#endif
