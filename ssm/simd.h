/*
 * ssm/simd.h (internal): compile the hot elementwise loops twice, for AVX2
 * and for the x86-64 baseline (SSE2), and pick one at load time (GCC
 * target_clones, an ifunc). The build stays portable (no -march), and a
 * machine with AVX2 gets 8 floats per instruction instead of 4.
 *
 * The fast clone is x86-64-v3 (AVX2 with FMA and BMI2: Intel since Haswell,
 * AMD since Excavator and Zen). Results are the same bits either way: -std=c11
 * keeps -ffp-contract=off, so the compiler forms no FMA of its own, and each
 * lane does the same IEEE operations in the same order; only the number of
 * lanes changes. Where a kernel wants a fused multiply-add it says so (fma8 in
 * ssm/kern_vec.h, fmaf), which is defined to the bit on both builds.
 * tests/ssm/test_simd.c checks it by building the kernels again with
 * SSM_NO_CLONES.
 */
#ifndef STATECAST_SSM_SIMD_H
#define STATECAST_SSM_SIMD_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(SSM_NO_CLONES)
#define SSM__HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SSM__HOT
#endif

#endif
