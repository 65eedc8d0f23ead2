/*
 * daemon/sched.c: the calling thread's scheduling slice (see sched.h),
 * through the raw sched_setattr/sched_getattr system calls (glibc has no
 * wrapper for either).
 */
#include "daemon/sched.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* struct sched_attr as of Linux 4.13 (SCHED_ATTR_SIZE_VER1). */
typedef struct sched_attr_v1 {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime; /* SCHED_OTHER/BATCH: the slice (ns) */
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
} sched_attr_v1;

static int get_attr(sched_attr_v1 *a)
{
#ifdef SYS_sched_getattr
	memset(a, 0, sizeof *a);
	if (syscall(SYS_sched_getattr, 0, a, (unsigned)sizeof *a, 0) != 0)
		return errno;
	return 0;
#else
	(void)a;
	return ENOSYS;
#endif
}

int srv_sched_set_slice(int us)
{
#ifdef SYS_sched_setattr
	sched_attr_v1 a;
	int rc = get_attr(&a);

	if (rc)
		return rc;
	/* Only the fair policies have a slice to ask for. */
	if (a.sched_policy != 0 /* SCHED_OTHER */ &&
	    a.sched_policy != 3 /* SCHED_BATCH */)
		return EINVAL;
	a.size = sizeof a;
	a.sched_flags = 0;
	a.sched_runtime = (uint64_t)us * 1000u;
	if (syscall(SYS_sched_setattr, 0, &a, 0) != 0)
		return errno;
	/* A kernel without per-thread slices takes sched_runtime and
	 * ignores it: what it reports back tells. */
	return srv_sched_slice_us() > 0 ? 0 : EOPNOTSUPP;
#else
	(void)us;
	return ENOSYS;
#endif
}

int srv_sched_slice_us(void)
{
	sched_attr_v1 a;

	if (get_attr(&a))
		return 0;
	return (int)(a.sched_runtime / 1000u);
}
