/* io/train_ckpt.c: training checkpoints (see train_ckpt.h). */
#include <msgpack.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/model_file.h"
#include "io/train_ckpt.h"

#define CKPT_MAGIC "statecast-ckpt"
enum { CKPT_VERSION = 1 };

/* The config's fields, by name: what a checkpoint records. */
typedef struct fld {
	const char *name;
	size_t off;
	int is_double; /* else int; seed is special-cased */
} fld;

#define FI(x)                                     \
	{                                         \
#x, offsetof(ssm_train_cfg, x), 0 \
	}
#define FD(x)                                     \
	{                                         \
#x, offsetof(ssm_train_cfg, x), 1 \
	}
static const fld fields[] = {
    FI(batch),	     FI(chunk),	  FI(steps),  FI(warmup), FD(lr),
    FD(lr_min_frac), FD(lr_dyn),  FD(wd),     FD(clip),	  FI(burn_in),
    FI(min_len),     FI(max_len), FD(p_data),
};
#define NFIELDS ((int)(sizeof fields / sizeof fields[0]))

static void pack_cstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

int io_ckpt_save(const char *path, ssm_trainer *tr, const ssm_model *m,
		 const ssm_train_cfg *cfg)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char tmp[4096];
	void *mf;
	size_t mlen;
	int i, err, ok;
	FILE *f;

	if ((err = io_model_save_mem(m, &mf, &mlen)) != 0)
		return err;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 5);
	pack_cstr(&pk, CKPT_MAGIC);
	msgpack_pack_int(&pk, CKPT_VERSION);
	msgpack_pack_map(&pk, (size_t)NFIELDS + 1);
	for (i = 0; i < NFIELDS; i++) {
		const char *p = (const char *)cfg + fields[i].off;
		pack_cstr(&pk, fields[i].name);
		if (fields[i].is_double) {
			double v;
			memcpy(&v, p, sizeof v);
			msgpack_pack_double(&pk, v);
		} else {
			int v;
			memcpy(&v, p, sizeof v);
			msgpack_pack_int(&pk, v);
		}
	}
	pack_cstr(&pk, "seed");
	msgpack_pack_uint64(&pk, cfg->seed);
	msgpack_pack_bin(&pk, mlen);
	msgpack_pack_bin_body(&pk, mf, mlen);
	free(mf);
	msgpack_pack_array(&pk, (size_t)ssm_trainer_nblobs(tr));
	for (i = 0; i < ssm_trainer_nblobs(tr); i++) {
		const char *name;
		void *data;
		size_t bytes;

		ssm_trainer_blob(tr, i, &name, &data, &bytes);
		msgpack_pack_array(&pk, 2);
		pack_cstr(&pk, name);
		msgpack_pack_bin(&pk, bytes);
		msgpack_pack_bin_body(&pk, data, bytes);
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "wb");
	ok = f && fwrite(sb.data, 1, sb.size, f) == sb.size;
	if (f) {
		ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
		ok = fclose(f) == 0 && ok;
	}
	msgpack_sbuffer_destroy(&sb);
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return IO_MF_EIO;
	}
	return 0;
}

__attribute__((format(printf, 4, 5))) static int
fail(char *msg, size_t n, int err, const char *fmt, ...)
{
	va_list ap;

	if (msg && n) {
		va_start(ap, fmt);
		vsnprintf(msg, n, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* Unpacks the checkpoint's top array; 0 or an error. */
static int top(const void *buf, size_t len, msgpack_unpacked *u, char *msg,
	       size_t msglen)
{
	size_t off = 0;
	msgpack_unpack_return r = msgpack_unpack_next(u, buf, len, &off);
	const msgpack_object *a;

	if (r == MSGPACK_UNPACK_CONTINUE)
		return fail(msg, msglen, IO_MF_ETRUNC, "checkpoint truncated");
	if (r != MSGPACK_UNPACK_SUCCESS ||
	    u->data.type != MSGPACK_OBJECT_ARRAY || u->data.via.array.size != 5)
		return fail(msg, msglen, IO_MF_EMAGIC, "not a checkpoint");
	a = u->data.via.array.ptr;
	if (a[0].type != MSGPACK_OBJECT_STR ||
	    a[0].via.str.size != strlen(CKPT_MAGIC) ||
	    memcmp(a[0].via.str.ptr, CKPT_MAGIC, strlen(CKPT_MAGIC)) != 0)
		return fail(msg, msglen, IO_MF_EMAGIC, "not a checkpoint");
	if (a[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    a[1].via.u64 != CKPT_VERSION)
		return fail(msg, msglen, IO_MF_EVERSION,
			    "checkpoint version not %d", CKPT_VERSION);
	if (a[2].type != MSGPACK_OBJECT_MAP ||
	    a[3].type != MSGPACK_OBJECT_BIN ||
	    a[4].type != MSGPACK_OBJECT_ARRAY)
		return fail(msg, msglen, IO_MF_EFORMAT, "malformed checkpoint");
	return 0;
}

int io_ckpt_load(const char *path, ssm_model **m, ssm_train_cfg *cfg,
		 void **blob, size_t *bloblen, char *msg, size_t msglen)
{
	FILE *f = fopen(path, "rb");
	msgpack_unpacked u;
	char *buf = NULL;
	long len;
	uint32_t i;
	int err, k;

	*m = NULL;
	if (!f)
		return fail(msg, msglen, IO_MF_EIO, "cannot open %s", path);
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || !(buf = malloc((size_t)len + 1)) ||
	    fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		free(buf);
		return fail(msg, msglen, IO_MF_EIO, "cannot read %s", path);
	}
	fclose(f);
	msgpack_unpacked_init(&u);
	if ((err = top(buf, (size_t)len, &u, msg, msglen)) != 0)
		goto out;
	ssm_train_default_cfg(cfg);
	for (i = 0; i < u.data.via.array.ptr[2].via.map.size; i++) {
		const msgpack_object_kv *kv =
		    &u.data.via.array.ptr[2].via.map.ptr[i];
		if (kv->key.type != MSGPACK_OBJECT_STR)
			continue;
		if (kv->key.via.str.size == 4 &&
		    !memcmp(kv->key.via.str.ptr, "seed", 4) &&
		    kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			cfg->seed = kv->val.via.u64;
		for (k = 0; k < NFIELDS; k++) {
			char *p = (char *)cfg + fields[k].off;
			if (kv->key.via.str.size != strlen(fields[k].name) ||
			    memcmp(kv->key.via.str.ptr, fields[k].name,
				   kv->key.via.str.size))
				continue;
			if (fields[k].is_double &&
			    (kv->val.type == MSGPACK_OBJECT_FLOAT64 ||
			     kv->val.type == MSGPACK_OBJECT_FLOAT32)) {
				double v = kv->val.via.f64;
				memcpy(p, &v, sizeof v);
			} else if (!fields[k].is_double &&
				   kv->val.type ==
				       MSGPACK_OBJECT_POSITIVE_INTEGER) {
				int v = (int)kv->val.via.u64;
				memcpy(p, &v, sizeof v);
			}
		}
	}
	err = io_model_load_mem(u.data.via.array.ptr[3].via.bin.ptr,
				u.data.via.array.ptr[3].via.bin.size, m, msg,
				msglen);
out:
	msgpack_unpacked_destroy(&u);
	if (err) {
		free(buf);
		return err;
	}
	*blob = buf;
	*bloblen = (size_t)len;
	return 0;
}

int io_ckpt_restore(const void *blob, size_t bloblen, ssm_trainer *tr,
		    char *msg, size_t msglen)
{
	msgpack_unpacked u;
	const msgpack_object *bl;
	int err, i;

	msgpack_unpacked_init(&u);
	if ((err = top(blob, bloblen, &u, msg, msglen)) != 0)
		goto out;
	bl = &u.data.via.array.ptr[4];
	if ((int)bl->via.array.size != ssm_trainer_nblobs(tr)) {
		err =
		    fail(msg, msglen, IO_MF_ESHAPE, "%u blobs, trainer has %d",
			 bl->via.array.size, ssm_trainer_nblobs(tr));
		goto out;
	}
	for (i = 0; i < ssm_trainer_nblobs(tr); i++) {
		const msgpack_object *e = &bl->via.array.ptr[i];
		const char *name;
		void *data;
		size_t bytes;

		ssm_trainer_blob(tr, i, &name, &data, &bytes);
		if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 2 ||
		    e->via.array.ptr[0].type != MSGPACK_OBJECT_STR ||
		    e->via.array.ptr[0].via.str.size != strlen(name) ||
		    memcmp(e->via.array.ptr[0].via.str.ptr, name,
			   strlen(name)) != 0 ||
		    e->via.array.ptr[1].type != MSGPACK_OBJECT_BIN ||
		    e->via.array.ptr[1].via.bin.size != bytes) {
			err = fail(msg, msglen, IO_MF_ESHAPE,
				   "checkpoint blob %d (%s) does not match the "
				   "trainer",
				   i, name);
			goto out;
		}
		memcpy(data, e->via.array.ptr[1].via.bin.ptr, bytes);
	}
	err = 0;
out:
	msgpack_unpacked_destroy(&u);
	return err;
}
