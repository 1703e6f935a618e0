/* Benchside board agent: timed GEMM and convolution runs, each checked against a naive reference computed here.
   A result outside the tolerance (or any difference, for integers) ends the agent with "wrong answer: ...". */
#include "agent.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- checks ---- */

/* fp32: |got - ref| <= 2 K eps sum|a b|, a bound on the rounding of any summation order. */
static void check_close(const float *got, const double *ref, const double *absref, size_t n, int K, int cols, const char *what) {
  for (size_t i = 0; i < n; i++) {
    double tol = 2.0 * K * FLT_EPSILON * absref[i] + 1e-6;
    if (!(fabs((double)got[i] - ref[i]) <= tol))
      die("wrong answer: %s[%zu][%zu] = %.9g, the reference gives %.9g (tolerance %.3g)", what, i / (size_t)cols,
          i % (size_t)cols, (double)got[i], ref[i], tol);
  }
}

static void check_exact(const int32_t *got, const int64_t *ref, size_t n, int cols, const char *what) {
  for (size_t i = 0; i < n; i++) {
    if ((int64_t)got[i] != ref[i])
      die("wrong answer: %s[%zu][%zu] = %ld, the reference gives %lld", what, i / (size_t)cols, i % (size_t)cols,
          (long)got[i], (long long)ref[i]);
  }
}

/* The hidden inject_error argument corrupts one output element so tests can prove the checks catch it. */
static void corrupt_f32(float *c, size_t n, int K) { c[n / 2] += 1.0f + 2.0f * fabsf(c[n / 2]) + (float)K; }
static void corrupt_i32(int32_t *c, size_t n) { c[n / 2] += 1; }

/* ---- data ---- */
static float *random_f32(size_t n, uint64_t *s) {
  float *p = xalloc(sizeof(float) * n);
  for (size_t i = 0; i < n; i++) p[i] = rng_f32(s);
  return p;
}
static int8_t *random_i8(size_t n, uint64_t *s) {
  int8_t *p = xalloc(n);
  for (size_t i = 0; i < n; i++) p[i] = (int8_t)(uint8_t)(rng_next(s) >> 56);
  return p;
}
static uint8_t *random_bits(size_t n, int bits, uint64_t *s) {
  uint8_t *p = xalloc(n);
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)((rng_next(s) >> 32) & ((1u << bits) - 1));
  return p;
}

/* ---- fp32 GEMM ---- */
typedef struct {
  const f32_impl *impl;
  int M, N, K, mc, nc, kc, threads;
  const float *A, *B;
  float *C, *bpack, **apack;
} f32_plan;

static void run_f32(void *p) {
  f32_plan *g = p;
  g->impl->gemm(g->M, g->N, g->K, g->A, g->B, g->C, g->mc, g->nc, g->kc, g->threads, g->bpack, g->apack);
}

static int round_up(int x, int m) { return (x + m - 1) / m * m; }

static void f32_plan_init(f32_plan *g, const f32_impl *impl, int M, int N, int K, int mc, int nc, int kc, int threads) {
  g->impl = impl, g->M = M, g->N = N, g->K = K, g->threads = threads;
  g->mc = round_up(mc > 0 ? mc : 96, impl->mr);
  g->nc = round_up(nc > 0 ? nc : impl->default_nc, impl->nr);
  g->kc = kc > 0 ? kc : impl->default_kc;
  g->bpack = xalloc(sizeof(float) * (size_t)(K < g->kc ? K : g->kc) * (size_t)round_up(N < g->nc ? N : g->nc, impl->nr));
  g->apack = xalloc(sizeof(float *) * (size_t)threads);
  for (int t = 0; t < threads; t++)
    g->apack[t] = xalloc(sizeof(float) * (size_t)round_up(M < g->mc ? M : g->mc, impl->mr) * (size_t)(K < g->kc ? K : g->kc));
}

static void f32_plan_free(f32_plan *g) {
  for (int t = 0; t < g->threads; t++) free(g->apack[t]);
  free(g->apack);
  free(g->bpack);
}

/* Row-major reference C = A B in double, i-k-j order so the inner loop streams. */
static void ref_gemm_f32(int M, int N, int K, const float *A, const float *B, double *ref, double *absref) {
  for (int i = 0; i < M; i++) {
    double *r = ref + (size_t)i * N, *ar = absref + (size_t)i * N;
    for (int k = 0; k < K; k++) {
      double a = A[(size_t)i * K + k];
      const float *b = B + (size_t)k * N;
      for (int j = 0; j < N; j++) r[j] += a * b[j], ar[j] += fabs(a * b[j]);
    }
  }
}

measured_t measure_gemm_f32(int M, int N, int K, const f32_impl *impl, int mc, int nc, int kc, const timing_cfg *cfg,
                            int threads, int inject, uint64_t seed) {
  measured_t m;
  f32_plan g;
  float *A, *B, *C;
  double *ref, *absref;
  check_elems("A (M x K)", (double)M * K), check_elems("B (K x N)", (double)K * N), check_elems("C (M x N)", (double)M * N);
  A = random_f32((size_t)M * K, &seed);
  B = random_f32((size_t)K * N, &seed);
  C = xalloc(sizeof(float) * (size_t)M * N);
  f32_plan_init(&g, impl, M, N, K, mc, nc, kc, threads);
  g.A = A, g.B = B, g.C = C;
  m.t = time_op(run_f32, &g, cfg);
  if (inject) corrupt_f32(C, (size_t)M * N, K);
  ref = xalloc(sizeof(double) * (size_t)M * N);
  absref = xalloc(sizeof(double) * (size_t)M * N);
  ref_gemm_f32(M, N, K, A, B, ref, absref);
  check_close(C, ref, absref, (size_t)M * N, K, N, "C");
  m.ops = 2.0 * M * N * K;
  m.bytes = 4.0 * ((double)M * K + (double)K * N + (double)M * N);
  m.kernel = "gemm_f32";
  m.byte_model = "A and B read once, C written once (4 bytes each)";
  f32_plan_free(&g);
  free(A), free(B), free(C), free(ref), free(absref);
  return m;
}

/* ---- int8 GEMM ---- */
typedef struct {
  const i8_impl *impl;
  int M, N, K, tn, threads;
  const int8_t *A, *Bt;
  int32_t *C;
} i8_plan;

static void run_i8(void *p) {
  i8_plan *g = p;
  g->impl->gemm(g->M, g->N, g->K, g->A, g->Bt, g->C, g->tn, g->threads);
}

static void ref_dot_i8(int M, int N, int K, const int8_t *A, const int8_t *Bt, int64_t *ref) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      int64_t s = 0;
      for (int k = 0; k < K; k++) s += (int32_t)A[(size_t)i * K + k] * Bt[(size_t)j * K + k];
      ref[(size_t)i * N + j] = s;
    }
}

measured_t measure_gemm_i8(int M, int N, int K, const i8_impl *impl, int tn, const timing_cfg *cfg, int threads, int inject,
                           uint64_t seed) {
  measured_t m;
  i8_plan g;
  int64_t *ref;
  check_elems("A (M x K)", (double)M * K), check_elems("B (K x N)", (double)K * N), check_elems("C (M x N)", (double)M * N);
  if (K > 131071) die("K=%d is too large for exact int32 sums of int8 products; use K <= 131071", K);
  g.impl = impl, g.M = M, g.N = N, g.K = K, g.threads = threads;
  g.tn = tn > 0 ? tn : 64;
  g.A = random_i8((size_t)M * K, &seed);
  g.Bt = random_i8((size_t)N * K, &seed);
  g.C = xalloc(sizeof(int32_t) * (size_t)M * N);
  m.t = time_op(run_i8, &g, cfg);
  if (inject) corrupt_i32(g.C, (size_t)M * N);
  ref = xalloc(sizeof(int64_t) * (size_t)M * N);
  ref_dot_i8(M, N, K, g.A, g.Bt, ref);
  check_exact(g.C, ref, (size_t)M * N, N, "C");
  m.ops = 2.0 * M * N * K;
  m.bytes = (double)M * K + (double)K * N + 4.0 * M * N;
  m.kernel = "gemm_i8";
  m.byte_model = "A and B read once (1 byte each), C written once (4 bytes)";
  free((void *)g.A), free((void *)g.Bt), free(g.C), free(ref);
  return m;
}

/* ---- bit-serial GEMM ---- */
typedef struct {
  int M, N, K, a_bits, w_bits, layout, tn, threads;
  const uint8_t *A; /* unpacked activations, packed inside every timed run */
  uint64_t *Ap;
  const uint64_t *Wp; /* weights packed once, as a deployed model would store them */
  int32_t *C;
  const popcount_impl *pc;
} bs_plan;

static void run_bs(void *p) {
  bs_plan *g = p;
  bits_pack(g->A, g->M, g->K, g->a_bits, g->layout, g->Ap);
  gemm_bitserial(g->M, g->N, g->K, g->Ap, g->a_bits, g->Wp, g->w_bits, g->layout, g->C, g->tn, g->threads, g->pc);
}

static void ref_dot_u8(int M, int N, int K, const uint8_t *A, const uint8_t *W, int64_t *ref) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      int64_t s = 0;
      for (int k = 0; k < K; k++) s += (int32_t)A[(size_t)i * K + k] * W[(size_t)j * K + k];
      ref[(size_t)i * N + j] = s;
    }
}

static void bs_bytes(measured_t *m, int M, int N, int K, int w_bits) {
  m->bytes = (double)M * K + (double)bits_packed_words(N, K, w_bits) * 8.0 + 4.0 * M * N;
  m->byte_model = "activations read once as uint8 (packed inside the timed run), packed weight planes read once, C written once (4 bytes)";
}

measured_t measure_gemm_bitserial(int M, int N, int K, int a_bits, int w_bits, int layout, int tn, const popcount_impl *pc,
                                  const timing_cfg *cfg, int threads, int inject, uint64_t seed) {
  measured_t m;
  bs_plan g;
  uint8_t *W;
  uint64_t *Wp;
  int64_t *ref;
  check_elems("A (M x K)", (double)M * K), check_elems("W (N x K)", (double)K * N), check_elems("C (M x N)", (double)M * N);
  if ((double)K * ((1 << a_bits) - 1) * ((1 << w_bits) - 1) > 2147483647.0)
    die("K=%d with %d-bit activations and %d-bit weights can overflow int32 sums; use a smaller K", K, a_bits, w_bits);
  g.M = M, g.N = N, g.K = K, g.a_bits = a_bits, g.w_bits = w_bits, g.layout = layout, g.threads = threads, g.pc = pc;
  g.tn = tn > 0 ? tn : 64;
  g.A = random_bits((size_t)M * K, a_bits, &seed);
  W = random_bits((size_t)N * K, w_bits, &seed);
  g.Ap = xalloc(sizeof(uint64_t) * bits_packed_words(M, K, a_bits));
  Wp = xalloc(sizeof(uint64_t) * bits_weight_words(N, K, w_bits, layout));
  bits_pack_weights(W, N, K, w_bits, layout, Wp);
  g.Wp = Wp;
  g.C = xalloc(sizeof(int32_t) * (size_t)M * N);
  m.t = time_op(run_bs, &g, cfg);
  if (inject) corrupt_i32(g.C, (size_t)M * N);
  ref = xalloc(sizeof(int64_t) * (size_t)M * N);
  ref_dot_u8(M, N, K, g.A, W, ref);
  check_exact(g.C, ref, (size_t)M * N, N, "C");
  m.ops = 2.0 * M * N * K;
  bs_bytes(&m, M, N, K, w_bits);
  m.kernel = "gemm_bitserial";
  free((void *)g.A), free(W), free(g.Ap), free(Wp), free(g.C), free(ref);
  return m;
}

/* ---- dense layer: the kernel follows the bit width ---- */
measured_t measure_dense(int M, int K, int N, int bits, const timing_cfg *cfg, int threads, int inject, uint64_t seed) {
  if (bits >= 9) return measure_gemm_f32(M, N, K, f32_select(NULL), 0, 0, 0, cfg, threads, inject, seed);
  if (bits >= 5) return measure_gemm_i8(M, N, K, i8_select(NULL), 0, cfg, threads, inject, seed);
  return measure_gemm_bitserial(M, N, K, bits, bits, LAYOUT_PLANES_OUTER, 0, popcount_select(NULL), cfg, threads, inject, seed);
}

/* ---- convolution (one image, NCHW input, OIHW weights) ---- */
int conv_out(int size, int k, int stride, int pad) { return (size + 2 * pad - k) / stride + 1; }

typedef struct {
  conv_shape s;
  int ho, wo, threads, bits;
  const float *in, *wt;
  float *col, *out;
  f32_plan g;
  const uint8_t *qin;
  uint8_t *colT;
  const int8_t *qwt;
  int32_t *qout;
  i8_plan ig;
  bs_plan bg;
} conv_plan;

/* col[(ci*kh+ky)*kw+kx][oh*wo+ow] = in[ci][oh*s+ky-pad][ow*s+kx-pad], zero outside the image. */
static void im2col_f32(const conv_plan *c) {
  const conv_shape *s = &c->s;
  size_t P = (size_t)c->ho * c->wo;
  for (int ci = 0; ci < s->cin; ci++)
    for (int ky = 0; ky < s->kh; ky++)
      for (int kx = 0; kx < s->kw; kx++) {
        float *row = c->col + (((size_t)ci * s->kh + ky) * s->kw + kx) * P;
        for (int oh = 0; oh < c->ho; oh++) {
          int ih = oh * s->stride + ky - s->pad;
          for (int ow = 0; ow < c->wo; ow++) {
            int iw = ow * s->stride + kx - s->pad;
            row[(size_t)oh * c->wo + ow] =
                (ih >= 0 && ih < s->h && iw >= 0 && iw < s->w) ? c->in[((size_t)ci * s->h + ih) * s->w + iw] : 0.0f;
          }
        }
      }
}

/* colT[oh*wo+ow][(ci*kh+ky)*kw+kx]: one row per output pixel, for the int8 and bit-serial kernels (dot products along K). */
static void im2col_bytes(const conv_plan *c) {
  const conv_shape *s = &c->s;
  size_t ckk = (size_t)s->cin * s->kh * s->kw;
  for (int oh = 0; oh < c->ho; oh++)
    for (int ow = 0; ow < c->wo; ow++) {
      uint8_t *row = c->colT + ((size_t)oh * c->wo + ow) * ckk;
      for (int ci = 0; ci < s->cin; ci++)
        for (int ky = 0; ky < s->kh; ky++) {
          int ih = oh * s->stride + ky - s->pad;
          for (int kx = 0; kx < s->kw; kx++) {
            int iw = ow * s->stride + kx - s->pad;
            *row++ = (ih >= 0 && ih < s->h && iw >= 0 && iw < s->w) ? c->qin[((size_t)ci * s->h + ih) * s->w + iw] : 0;
          }
        }
    }
}

static void run_conv_im2col_f32(void *p) {
  conv_plan *c = p;
  im2col_f32(c);
  run_f32(&c->g);
}

static void run_conv_direct_f32(void *p) {
  conv_plan *c = p;
  const conv_shape *s = &c->s;
  size_t P = (size_t)c->ho * c->wo;
  memset(c->out, 0, sizeof(float) * P * s->cout);
#ifdef _OPENMP
#pragma omp parallel for num_threads(c->threads) schedule(static) if (c->threads > 1)
#endif
  for (int co = 0; co < s->cout; co++) {
    float *o = c->out + (size_t)co * P;
    for (int ci = 0; ci < s->cin; ci++)
      for (int ky = 0; ky < s->kh; ky++)
        for (int kx = 0; kx < s->kw; kx++) {
          float w = c->wt[(((size_t)co * s->cin + ci) * s->kh + ky) * s->kw + kx];
          /* Output columns whose input column is inside the image; the inner loop then has no branches. */
          int lo = 0, hi = c->wo;
          while (lo < hi && lo * s->stride + kx - s->pad < 0) lo++;
          while (hi > lo && (hi - 1) * s->stride + kx - s->pad >= s->w) hi--;
          for (int oh = 0; oh < c->ho; oh++) {
            int ih = oh * s->stride + ky - s->pad;
            const float *irow;
            float *orow = o + (size_t)oh * c->wo;
            if (ih < 0 || ih >= s->h) continue;
            irow = c->in + ((size_t)ci * s->h + ih) * s->w + kx - s->pad;
            if (s->stride == 1) {
              for (int ow = lo; ow < hi; ow++) orow[ow] += w * irow[ow];
            } else {
              for (int ow = lo; ow < hi; ow++) orow[ow] += w * irow[(size_t)ow * s->stride];
            }
          }
        }
  }
}

static void run_conv_i8(void *p) {
  conv_plan *c = p;
  im2col_bytes(c);
  run_i8(&c->ig);
}

static void run_conv_bs(void *p) {
  conv_plan *c = p;
  im2col_bytes(c);
  run_bs(&c->bg);
}

/* Naive direct convolution in double (fp32 path) or int64 (integer paths); ref[co][p]. */
static void ref_conv(const conv_plan *c, double *ref, double *absref, int64_t *iref, int is_signed) {
  const conv_shape *s = &c->s;
  size_t P = (size_t)c->ho * c->wo;
  for (int co = 0; co < s->cout; co++)
    for (int oh = 0; oh < c->ho; oh++)
      for (int ow = 0; ow < c->wo; ow++) {
        double acc = 0, aacc = 0;
        int64_t iacc = 0;
        for (int ci = 0; ci < s->cin; ci++)
          for (int ky = 0; ky < s->kh; ky++)
            for (int kx = 0; kx < s->kw; kx++) {
              int ih = oh * s->stride + ky - s->pad, iw = ow * s->stride + kx - s->pad;
              size_t wi = (((size_t)co * s->cin + ci) * s->kh + ky) * s->kw + kx, ii;
              if (ih < 0 || ih >= s->h || iw < 0 || iw >= s->w) continue;
              ii = ((size_t)ci * s->h + ih) * s->w + iw;
              if (ref) {
                double v = (double)c->in[ii] * c->wt[wi];
                acc += v, aacc += fabs(v);
              } else if (is_signed) {
                iacc += (int32_t)(int8_t)c->qin[ii] * c->qwt[wi];
              } else {
                iacc += (int32_t)c->qin[ii] * (uint8_t)c->qwt[wi];
              }
            }
        if (ref) {
          ref[(size_t)co * P + (size_t)oh * c->wo + ow] = acc;
          absref[(size_t)co * P + (size_t)oh * c->wo + ow] = aacc;
        } else {
          iref[(size_t)co * P + (size_t)oh * c->wo + ow] = iacc;
        }
      }
}

measured_t measure_conv(const conv_shape *s, int bits, int direct, const timing_cfg *cfg, int threads, int inject,
                        uint64_t seed) {
  measured_t m;
  conv_plan c;
  size_t P, ckk, nin, nwt;
  memset(&c, 0, sizeof c);
  c.s = *s, c.threads = threads, c.bits = bits;
  c.ho = conv_out(s->h, s->kh, s->stride, s->pad);
  c.wo = conv_out(s->w, s->kw, s->stride, s->pad);
  if (c.ho < 1 || c.wo < 1) die("the %dx%d kernel does not fit the %dx%d input with pad %d", s->kh, s->kw, s->h, s->w, s->pad);
  P = (size_t)c.ho * c.wo;
  ckk = (size_t)s->cin * s->kh * s->kw;
  nin = (size_t)s->cin * s->h * s->w;
  nwt = (size_t)s->cout * ckk;
  check_elems("the input", (double)nin), check_elems("the weights", (double)nwt);
  check_elems("the im2col buffer", (double)ckk * P), check_elems("the output", (double)s->cout * P);
  m.ops = 2.0 * s->cout * (double)P * ckk;
  if (bits >= 9) {
    double *ref = xalloc(sizeof(double) * s->cout * P), *absref = xalloc(sizeof(double) * s->cout * P);
    c.in = random_f32(nin, &seed);
    c.wt = random_f32(nwt, &seed);
    c.out = xalloc(sizeof(float) * s->cout * P);
    if (direct) {
      m.t = time_op(run_conv_direct_f32, &c, cfg);
      m.kernel = "conv2d_direct_f32";
    } else {
      c.col = xalloc(sizeof(float) * ckk * P);
      f32_plan_init(&c.g, f32_select(NULL), s->cout, (int)P, (int)ckk, 0, 0, 0, threads);
      c.g.A = c.wt, c.g.B = c.col, c.g.C = c.out;
      m.t = time_op(run_conv_im2col_f32, &c, cfg);
      m.kernel = "conv2d_im2col_gemm_f32";
      f32_plan_free(&c.g);
      free(c.col);
    }
    if (inject) corrupt_f32(c.out, s->cout * P, (int)ckk);
    ref_conv(&c, ref, absref, NULL, 0);
    check_close(c.out, ref, absref, s->cout * P, (int)ckk, (int)P, "output");
    m.bytes = 4.0 * ((double)nin + (double)nwt + (double)s->cout * P);
    m.byte_model = "input and weights read once, output written once (4 bytes each; the im2col buffer is not counted)";
    free((void *)c.in), free((void *)c.wt), free(c.out), free(ref), free(absref);
  } else {
    int64_t *iref = xalloc(sizeof(int64_t) * s->cout * P);
    int32_t *outT;
    if (direct) die("direct convolution is fp32 only; use method 'im2col' for %d-bit layers", bits);
    c.colT = xalloc(ckk * P);
    c.qout = xalloc(sizeof(int32_t) * s->cout * P);
    if (bits >= 5) {
      c.qin = (const uint8_t *)random_i8(nin, &seed);
      c.qwt = random_i8(nwt, &seed);
      c.ig.impl = i8_select(NULL), c.ig.M = (int)P, c.ig.N = s->cout, c.ig.K = (int)ckk, c.ig.tn = 64, c.ig.threads = threads;
      c.ig.A = (const int8_t *)c.colT, c.ig.Bt = c.qwt, c.ig.C = c.qout;
      m.t = time_op(run_conv_i8, &c, cfg);
      m.kernel = "conv2d_im2col_gemm_i8";
      m.bytes = (double)nin + (double)nwt + 4.0 * s->cout * P;
      m.byte_model = "input and weights read once (1 byte each), output written once (4 bytes; the im2col buffer is not counted)";
    } else {
      uint64_t *Wp = xalloc(sizeof(uint64_t) * bits_weight_words(s->cout, (int)ckk, bits, LAYOUT_PLANES_OUTER));
      if ((double)ckk * ((1 << bits) - 1) * ((1 << bits) - 1) > 2147483647.0) die("cin*kh*kw is too large for %d-bit sums", bits);
      c.qin = random_bits(nin, bits, &seed);
      c.qwt = (const int8_t *)random_bits(nwt, bits, &seed);
      bits_pack_weights((const uint8_t *)c.qwt, s->cout, (int)ckk, bits, LAYOUT_PLANES_OUTER, Wp);
      c.bg.M = (int)P, c.bg.N = s->cout, c.bg.K = (int)ckk, c.bg.a_bits = bits, c.bg.w_bits = bits;
      c.bg.layout = LAYOUT_PLANES_OUTER, c.bg.tn = 64, c.bg.threads = threads, c.bg.pc = popcount_select(NULL);
      c.bg.A = c.colT, c.bg.Wp = Wp, c.bg.C = c.qout;
      c.bg.Ap = xalloc(sizeof(uint64_t) * bits_packed_words((int)P, (int)ckk, bits));
      m.t = time_op(run_conv_bs, &c, cfg);
      m.kernel = "conv2d_im2col_gemm_bitserial";
      bs_bytes(&m, (int)P, s->cout, (int)ckk, bits);
      m.bytes = m.bytes - (double)P * ckk + (double)nin; /* the input, not the im2col copy, is what moves once */
      free(Wp), free(c.bg.Ap);
    }
    if (inject) corrupt_i32(c.qout, s->cout * P);
    ref_conv(&c, NULL, NULL, iref, bits >= 5);
    /* The integer kernels write output[p][co]; compare transposed. */
    outT = xalloc(sizeof(int32_t) * s->cout * P);
    for (size_t p = 0; p < P; p++)
      for (int co = 0; co < s->cout; co++) outT[(size_t)co * P + p] = c.qout[p * s->cout + co];
    check_exact(outT, iref, s->cout * P, (int)P, "output");
    free(outT), free(iref), free(c.colT), free(c.qout), free((void *)c.qin), free((void *)c.qwt);
  }
  return m;
}
