/*
 * ssm/kern_vec.h (internal): the GCC generic vector of 8 floats the step
 * kernels (ssm/kern_*.c) are written with. Compiled for AVX2 it is one ymm
 * register, for the x86-64 baseline two xmm; the operations are IEEE
 * per lane, so both builds give the same bits. Only for files that are
 * compiled with SSM__HOT clones (ssm/simd.h).
 */
#ifndef STATECAST_SSM_KERN_VEC_H
#define STATECAST_SSM_KERN_VEC_H

typedef float v8 __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
/* The may_alias, aligned(4) twin loads and stores 8 floats at any float
 * address (vmovups). */
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));

/* Vectors never cross a call (the kernels' helpers are inlined), so GCC's
 * note that the 32-byte vector ABI depends on AVX does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"

#define LD(p)	 (*(const v8u *)(p))
#define ST(p, v) (*(v8u *)(p) = (v))

#endif
