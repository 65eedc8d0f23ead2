/*
 * ssm/hippo_decl.h: the HiPPO memory layer API for one real type; included
 * by ssm/hippo.h for float (ssm_hippo_*) and double (ssm_hippo64_*). The
 * functions mirror ssm/s4d_decl.h one for one. No include guard on purpose.
 */
#define R_ SSM_HIPPO_REAL
#define N_ SSM_HIPPO_NAME

typedef struct N_(_tensors) {
	R_ *W_out; /* [H][H N] */
	R_ *b_out; /* [H] */
} N_(_tensors);

typedef struct N_() {
	ssm_hippo_cfg cfg;
	R_ *params; /* owned, nparams reals */
	N_(_tensors) p;
	/* Owned: the continuous A/theta [N][N], B/theta [N] in double, and
	 * the gap-1 discretization dA [N][N], dB [N] in real. */
	double *A, *B;
	R_ *dA, *dB;
} N_();

void N_(_carve)(const ssm_hippo_cfg *cfg, R_ *base, N_(_tensors) * t);
/* W_out uniform +-1/sqrt(H N), b_out = 0. 0, SSM_EINVAL, SSM_ENOMEM,
 * SSM_ESHAPE (discretization failed). */
int N_(_init)(N_() * l, const ssm_hippo_cfg *cfg, ssm_rng *rng);
/* 0 or SSM_ENONFINITE (the discretization is fixed; this checks params). */
int N_(_prepare)(N_() * l);
void N_(_release)(N_() * l);

size_t N_(_workspace_bytes)(const ssm_hippo_cfg *cfg, int B);
void N_(_step)(const N_() * l, R_ *state, double gap, const R_ *u, R_ *y,
	       void *ws);
void N_(_step_batch)(const N_() * l, int B, R_ *const *states,
		     const double *gaps, const R_ *u, R_ *y, void *ws);

size_t N_(_acts_size)(const ssm_hippo_cfg *cfg, int T);
size_t N_(_seq_workspace_bytes)(const ssm_hippo_cfg *cfg, int T);
void N_(_forward)(const N_() * l, int T, R_ *state, const double *gaps,
		  const R_ *u, R_ *y, R_ *acts, void *ws);
/* Gradients for W_out, b_out and u (the memory itself is fixed). */
void N_(_backward)(const N_() * l, int T, const double *gaps, const R_ *u,
		   const R_ *acts, const R_ *dy, R_ *du, R_ *grads, void *ws);

#undef R_
#undef N_
