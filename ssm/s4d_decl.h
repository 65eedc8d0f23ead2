/*
 * ssm/s4d_decl.h: the S4D API for one real type; included by ssm/s4d.h once
 * with SSM_S4D_REAL = float (names ssm_s4d_*) and once with double
 * (ssm_s4d64_*). Read ssm/s4d.h first. No include guard on purpose.
 */
#define R_ SSM_S4D_REAL
#define N_ SSM_S4D_NAME

/* Views of a parameter (or gradient) array, carved by _carve(). */
typedef struct N_(_tensors) {
	R_ *norm_w;   /* [H] */
	R_ *log_dt;   /* [H] */
	R_ *log_A_re; /* [N][H] */
	R_ *A_im;     /* [N][H] */
	R_ *B_re;     /* [N][H] */
	R_ *B_im;     /* [N][H] */
	R_ *C_re;     /* [N][H] */
	R_ *C_im;     /* [N][H] */
	R_ *D;	      /* [H] */
	R_ *W_out;    /* [H][H] (out, in) */
	R_ *b_out;    /* [H] */
} N_(_tensors);

typedef struct N_() {
	ssm_s4d_cfg cfg; /* with defaults filled in */
	R_ *params;	 /* owned, nparams reals */
	N_(_tensors) p;	 /* views into params */
	/* Gap-1 discretization, [N][H] each, owned (refreshed by _prepare):
	 * dA and the folded input weight G = C dB (s4d.h). */
	R_ *dA_re, *dA_im, *G_re, *G_im;
	R_ *W_outT; /* owned: W_out transposed [in][out], for _step */
	/* Owned, float build only (NULL in the double twin or when H < 16):
	 * the gap-1 dA and G packed for the step kernel (ssm/kern.h),
	 * refreshed by _prepare; starts on a 64-byte line. */
	R_ *pk;
	/* Owned, float build only (NULL in the double twin): the cache of the
	 * discretization at other gaps (ssm/kern.h, ssm__s4d_disc_f32),
	 * refreshed by _prepare: dt [H] = exp(log_dt), A_re [N][H] =
	 * -exp(log_A_re) in double (fdt, then fare in the same block), W
	 * [2][N][H] (re, im: C B / A for ZOH, C B for bilinear), and
	 * fzmax = max dt |A|. */
	double *fdt, *fare;
	R_ *fW;
	double fzmax;
} N_();

/* Carve base (nparams reals) into tensors. */
void N_(_carve)(const ssm_s4d_cfg *cfg, R_ *base, N_(_tensors) * t);

/*
 * Allocate and initialise (cfg.init, dt log-uniform, B = 1 or the LegS
 * projection, C complex normal, D normal, W_out uniform +-1/sqrt(H),
 * b_out = 0, norm_w = 1) from rng, then prepare. Returns 0, SSM_EINVAL,
 * SSM_ENOMEM. On error nothing is left allocated.
 */
int N_(_init)(N_() * l, const ssm_s4d_cfg *cfg, ssm_rng *rng);
/* Recompute the cached gap-1 discretization after params changed (loading
 * weights, an optimizer step). Returns 0 or SSM_ENONFINITE. */
int N_(_prepare)(N_() * l);
void N_(_release)(N_() * l);

/* Scratch bytes for _step (B = 1) and _step_batch with up to B series. */
size_t N_(_workspace_bytes)(const ssm_s4d_cfg *cfg, int B);

/* One sample of one series: state advances in place; y [H] (may not alias
 * u). gap > 0 in nominal steps. ws: _workspace_bytes(cfg, 1). */
void N_(_step)(const N_() * l, R_ *state, double gap, const R_ *u, R_ *y,
	       void *ws);

/*
 * B series at once: states[b] is series b's state; gaps [B] (NULL = all 1);
 * u, y [B][H]. The output projection is one GEMM over the batch. Equal to B
 * _step calls within float rounding (1e-6 relative).
 */
void N_(_step_batch)(const N_() * l, int B, R_ *const *states,
		     const double *gaps, const R_ *u, R_ *y, void *ws);

/* Reals of saved activations for a sequence of T samples. */
size_t N_(_acts_size)(const ssm_s4d_cfg *cfg, int T);
/* Scratch bytes for _forward and _backward over T samples. */
size_t N_(_seq_workspace_bytes)(const ssm_s4d_cfg *cfg, int T);

/*
 * Sequence mode over T samples of one series: state holds the initial state
 * and receives the final one; gaps [T] (NULL = all 1); u, y [T][H]; acts
 * (_acts_size reals) receives what _backward needs. Same numbers as T steps
 * up to the order of the output GEMM.
 */
void N_(_forward)(const N_() * l, int T, R_ *state, const double *gaps,
		  const R_ *u, R_ *y, R_ *acts, void *ws);

/*
 * Backward of _forward (same T, gaps, u, acts): given dy [T][H], writes
 * du [T][H] and ADDS the parameter gradients into grads (nparams reals, the
 * parameter layout). Truncated BPTT: no gradient into the initial state.
 */
void N_(_backward)(const N_() * l, int T, const double *gaps, const R_ *u,
		   const R_ *acts, const R_ *dy, R_ *du, R_ *grads, void *ws);

#undef R_
#undef N_
