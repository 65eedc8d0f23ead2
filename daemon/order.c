/* daemon/order.c: see order.h. */
#include "daemon/order.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/conn.h"
#include "daemon/server.h"

struct srv_slot {
	srv_slot *next;
	int ready; /* filled: buf (may be NULL) is the reply */
	char *buf;
	size_t len;
};

srv_slot *srv_order_reserve(srv_conn *c)
{
	srv_slot *sl = calloc(1, sizeof *sl);

	if (!sl)
		return NULL;
	if (c->oq_tail)
		c->oq_tail->next = sl;
	else
		c->oq_head = sl;
	c->oq_tail = sl;
	c->oq_open++;
	return sl;
}

/* Writes and frees the ready slots at the head. */
static void flush_head(srv_conn *c)
{
	srv_slot *sl;

	while ((sl = c->oq_head) && sl->ready) {
		c->oq_head = sl->next;
		if (!c->oq_head)
			c->oq_tail = NULL;
		if (sl->buf) {
			c->oq_bytes -= sl->len;
			if (!c->closing)
				srv_conn_write(c, sl->buf, sl->len);
		}
		free(sl->buf);
		free(sl);
	}
}

void srv_order_fill(srv_conn *c, srv_slot *sl, char *buf, size_t len)
{
	sl->ready = 1;
	sl->buf = buf;
	sl->len = buf ? len : 0;
	c->oq_bytes += sl->len;
	c->oq_open--;
	flush_head(c);
}

int srv_order_write(srv_conn *c, const void *data, size_t len)
{
	srv_slot *sl;

	if (!c->oq_head)
		return srv_conn_write(c, data, len);
	if (c->closing)
		return -1;
	if (c->oq_bytes + len > c->srv->set.conn_buffer) {
		c->srv->st.slow_clients++;
		srv_conn_close(c, "replies held behind a read past "
				  "limits.conn_buffer");
		return -1;
	}
	sl = calloc(1, sizeof *sl);
	if (sl)
		sl->buf = malloc(len ? len : 1);
	if (!sl || !sl->buf) {
		free(sl);
		srv_conn_close(c, "out of memory holding a reply");
		return -1;
	}
	memcpy(sl->buf, data, len);
	sl->len = len;
	sl->ready = 1;
	c->oq_bytes += len;
	c->oq_tail->next = sl;
	c->oq_tail = sl;
	return 0;
}

size_t srv_order_open(const srv_conn *c)
{
	return c->oq_open;
}

void srv_order_release(srv_conn *c)
{
	srv_slot *sl, *next;

	for (sl = c->oq_head; sl; sl = next) {
		next = sl->next;
		free(sl->buf);
		free(sl);
	}
	c->oq_head = c->oq_tail = NULL;
	c->oq_bytes = 0;
	c->oq_open = 0;
}
