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
/* Unsigned lanes for bit work (shifts wrap, never overflow). */
typedef unsigned v8w __attribute__((vector_size(32)));
/* The may_alias, aligned(4) twin loads and stores 8 floats at any float
 * address (vmovups). */
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));

/* Vectors never cross a call (the kernels' helpers are inlined), so GCC's
 * note that the 32-byte vector ABI depends on AVX does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"

/* Lanes of v rearranged by constant indexes (0-7): GCC's __builtin_shuffle
 * and clang's __builtin_shufflevector (the fuzz build is clang's) are the
 * same operation under two names. */
#ifdef __clang__
#define SHUF8(v, ...) __builtin_shufflevector((v), (v), __VA_ARGS__)
#else
#define SHUF8(v, ...) __builtin_shuffle((v), (v8w){__VA_ARGS__})
#endif

#define LD(p)	 (*(const v8u *)(p))
#define ST(p, v) (*(v8u *)(p) = (v))

/* a b + c rounded once, per lane: the C fmaf, whose result is defined
 * bit for bit (IEEE-754 fusedMultiplyAdd). In the x86-64-v3 clone GCC
 * turns the lane loop into one vfmadd; in the baseline it is eight calls
 * of glibc's fmaf (hardware where the CPU has FMA, exact software
 * emulation where not), so both builds give the same bits. Any operand may
 * be a float (broadcast: 1 x is x to the bit, -0, Inf and NaN too, and GCC
 * folds the product away). A macro, not a function (GCC notes an ABI
 * change for every function taking a 32-byte vector, which no pragma
 * silences); __COUNTER__ names its temporaries so that nested uses do not
 * shadow each other. */
/* GCC 12 warns that FMA8's operand vectors "may be used uninitialized" in
 * the baseline build, where it splits each 8-lane vector into halves and
 * reads the lanes from memory; every operand is assigned before use. */
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define V8(x) \
	_Generic((x), float : (v8){1, 1, 1, 1, 1, 1, 1, 1} * (x), default : (x))
#define FMA8(a, b, c)	  FMA8_(a, b, c, __COUNTER__)
#define FMA8_(a, b, c, n) FMA8__(a, b, c, n)
#define FMA8__(a, b, c, n)                                                   \
	__extension__({                                                      \
		v8 fa_##n = V8(a), fb_##n = V8(b), fc_##n = V8(c),           \
		   fr_##n = fc_##n;                                          \
		int fl_##n;                                                  \
		for (fl_##n = 0; fl_##n < 8; fl_##n++)                       \
			fr_##n[fl_##n] = __builtin_fmaf(                     \
			    fa_##n[fl_##n], fb_##n[fl_##n], fc_##n[fl_##n]); \
		fr_##n;                                                      \
	})

#endif
