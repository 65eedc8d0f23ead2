/*
 * daemon/sched.h: the scheduling slice the loop thread and the compute
 * pool's helpers ask of the kernel (model.slice_us).
 *
 * Linux's fair scheduler (EEVDF, 6.6+) gives each thread a virtual
 * deadline one slice after it becomes eligible; a thread that wakes with
 * an earlier deadline than the one running preempts it, and from 6.12 a
 * thread may ask for its own slice (sched_setattr's sched_runtime for
 * SCHED_OTHER, clamped by the kernel to 0.1-100 ms; no privilege needed).
 * The default slice here is 0.7 ms x (1 + log2 cores), 1.4 ms on two
 * cores: a loop woken by a sample while another thread holds its core
 * could wait for most of that. A shorter slice makes the loop (and a
 * helper woken for a round) run sooner after it wakes, at the cost of
 * being cut into shorter pieces itself when it competes for a core; its
 * share of the CPU (the weight, i.e. nice) is unchanged. The slice of a
 * group (an autogroup or cgroup) is the shortest of its threads', so it
 * counts against other programs' threads too
 * (bench/results/lat8*.md).
 *
 * Per thread, set by the thread itself; threads it creates later start
 * with the kernel's default again.
 */
#ifndef STATECAST_DAEMON_SCHED_H
#define STATECAST_DAEMON_SCHED_H

/*
 * Asks for a slice of us microseconds (> 0) for the calling thread,
 * keeping its policy and nice. 0 when the kernel took it (it may round
 * or clamp it: srv_sched_slice_us tells), else an errno: ENOSYS or EINVAL
 * (no sched_setattr), EOPNOTSUPP (a kernel that takes the call but keeps
 * its own slice, as before Linux 6.12), or the call's own errno.
 */
int srv_sched_set_slice(int us);

/* The calling thread's slice in microseconds as the kernel reports it,
 * 0 when it reports none (before Linux 6.12: no per-thread slice). */
int srv_sched_slice_us(void);

#endif
