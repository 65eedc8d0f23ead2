/*
 * ssm/mamba_decl.h: the Mamba API for one real type; included by
 * ssm/mamba.h for float (ssm_mamba_*) and double (ssm_mamba64_*). Read
 * ssm/mamba.h first; the functions mirror ssm/s4d_decl.h one for one.
 * No include guard on purpose.
 */
#define R_ SSM_MAMBA_REAL
#define N_ SSM_MAMBA_NAME

typedef struct N_(_tensors) {
	R_ *norm_w; /* [D] */
	R_ *W_in;   /* [2 Di][D] */
	R_ *conv_w; /* [Di][K] */
	R_ *conv_b; /* [Di] */
	R_ *W_x;    /* [R + 2 Ns][Di] */
	R_ *W_dt;   /* [Di][R] */
	R_ *b_dt;   /* [Di] */
	R_ *A_log;  /* [Di][Ns] */
	R_ *Dskip;  /* [Di] */
	R_ *W_out;  /* [D][Di] */
} N_(_tensors);

typedef struct N_() {
	ssm_mamba_cfg cfg; /* filled */
	R_ *params;	   /* owned, nparams reals */
	N_(_tensors) p;
	/* Owned caches refreshed by _prepare: A^T = -exp(A_log)^T [Ns][Di]
	 * and conv_w^T [K][Di], laid out so the step loops run over Di. */
	R_ *AT, *conv_wT;
	/* Owned caches: the projections transposed, [in][out], for the
	 * single-series step (W_in, W_x, W_dt, W_out). */
	R_ *W_inT, *W_xT, *W_dtT, *W_outT;
	/* Owned cache: max_n |A[c][n]| [Di], which bounds |dt A| per channel
	 * (the float step's fused scan runs when dt A stays in [-86, 0]). */
	R_ *Amax;
	/* Owned cache: A^T log2(e) [Ns][Di] (each rounded once from the exact
	 * product), the exponent factor of the float step's fused scan
	 * (2^(dt A log2 e) = exp(dt A), ssm/kern.h). */
	R_ *AL;
} N_();

void N_(_carve)(const ssm_mamba_cfg *cfg, R_ *base, N_(_tensors) * t);
/* Allocate, initialise as the reference from rng, prepare. 0, SSM_EINVAL,
 * SSM_ENOMEM; nothing left allocated on error. */
int N_(_init)(N_() * l, const ssm_mamba_cfg *cfg, ssm_rng *rng);
/* After params changed: refresh the cache; 0 or SSM_ENONFINITE. */
int N_(_prepare)(N_() * l);
void N_(_release)(N_() * l);

size_t N_(_workspace_bytes)(const ssm_mamba_cfg *cfg, int B);
/* One sample; y [D] must not alias u. ws: _workspace_bytes(cfg, 1). */
void N_(_step)(const N_() * l, R_ *state, double gap, const R_ *u, R_ *y,
	       void *ws);
/* B series, in tiles of SSM_MAMBA_TILE; the four projections are GEMMs
 * across a tile. ws: _workspace_bytes(cfg, B). */
void N_(_step_batch)(const N_() * l, int B, R_ *const *states,
		     const double *gaps, const R_ *u, R_ *y, void *ws);

size_t N_(_acts_size)(const ssm_mamba_cfg *cfg, int T);
size_t N_(_seq_workspace_bytes)(const ssm_mamba_cfg *cfg, int T);
/* Sequence mode (projections as GEMMs over time); state in/out. */
void N_(_forward)(const N_() * l, int T, R_ *state, const double *gaps,
		  const R_ *u, R_ *y, R_ *acts, void *ws);
/* du [T][D] written, grads (nparams) accumulated; truncated BPTT. */
void N_(_backward)(const N_() * l, int T, const double *gaps, const R_ *u,
		   const R_ *acts, const R_ *dy, R_ *du, R_ *grads, void *ws);

#undef R_
#undef N_
