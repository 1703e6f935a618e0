/* Benchside board agent: shared declarations of the JSON reader/writer, timing, kernels and operations.
   Portable C99 + POSIX; SIMD paths are compiled only where the compiler targets them (see docs/board-agent.md). */
#ifndef BENCHSIDE_AGENT_H
#define BENCHSIDE_AGENT_H

#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>

#define BS_PROTOCOL 1
#ifndef BS_AGENT_VERSION
#define BS_AGENT_VERSION "dev"
#endif
#ifndef BS_CFLAGS
#define BS_CFLAGS "unknown"
#endif

#ifdef _OPENMP
#include <omp.h>
#define BS_THREAD_ID() omp_get_thread_num()
#else
#define BS_THREAD_ID() 0
#endif

/* ---- argument reader (agent_json.c): one flat JSON object ---- */
typedef enum { JV_STR, JV_NUM, JV_BOOL, JV_NULL, JV_ARR } jv_kind;
int args_parse(const char *text, char *err, size_t errlen);
int args_has(const char *key);
const char *arg_str(const char *key, const char *fallback);
long long arg_int(const char *key, long long fallback, long long min, long long max);
double arg_num(const char *key, double fallback, double min, double max);
int arg_bool(const char *key, int fallback);
/* Returns the array length (0 when absent); values stay owned by the reader. */
int arg_arr(const char *key, const double **values);
/* Fails on any argument the operation did not read: catches typos such as "tile_m" vs "tilem". */
void args_reject_unused(const char *op);

/* ---- answer writer (agent_json.c): builds one JSON object, printed at the end ---- */
void jw_begin(void);
void jw_key(const char *key);
void jw_str(const char *value);
void jw_num(double value);
void jw_int(long long value);
void jw_bool(int value);
void jw_obj_begin(void);
void jw_obj_end(void);
void jw_arr_begin(void);
void jw_arr_end(void);
void jw_kstr(const char *key, const char *value);
void jw_knum(const char *key, double value);
void jw_kint(const char *key, long long value);
void jw_kbool(const char *key, int value);
const char *jw_finish(void);

/* Prints {"ok":false,"error":...} and exits: every error path ends here. */
void die(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;
/* Prefix for errors raised inside a network layer, so the message names the layer. */
extern char g_error_context[128];

/* ---- timing and utilities (agent_util.c) ---- */
typedef struct {
  int warmup, number, repeat;
  double min_repeat_s, warmup_s;
} timing_cfg;
typedef struct {
  int number, repeat;
  double median, min, max, q1, q3;
} timing_t;
typedef void (*run_fn)(void *ctx);
double now_s(void);
timing_cfg timing_from_args(void);
timing_t time_op(run_fn fn, void *ctx, const timing_cfg *cfg);
void jw_timing(const timing_t *t);
/* Adds ops, bytes, GOP/s and arithmetic intensity derived from a timing. */
void jw_derived(const timing_t *t, double ops, double bytes, const char *byte_model);
void *xalloc(size_t bytes);
void check_elems(const char *what, double count);
uint64_t rng_next(uint64_t *state);
float rng_f32(uint64_t *state);
int cpu_cores(void);
int threads_from_args(void);

/* ---- kernels (agent_kernels.c) ---- */
typedef struct {
  const char *name;
  int vw, mr, nr, default_kc, default_nc;
  float (*peak)(long iters);
  int peak_acc;
  float (*read)(const float *buf, size_t n, long passes);
  size_t read_block; /* floats consumed per read-loop step */
  void (*gemm)(int M, int N, int K, const float *A, const float *B, float *C, int mc, int nc, int kc, int threads,
               float *bpack, float **apack);
} f32_impl;
typedef struct {
  const char *name;
  void (*gemm)(int M, int N, int K, const int8_t *A, const int8_t *Bt, int32_t *C, int tn, int threads);
} i8_impl;
typedef struct {
  const char *name;
  int rows, cols; /* bit-serial micro-tile: rows of A x columns of W */
  void (*micro)(int kw, int a_bits, int w_bits, const uint64_t *A, size_t lda, int mr, const uint64_t *W,
                size_t panel_words, int32_t *C, int ldc, int nr);
} popcount_impl;

const f32_impl *f32_select(const char *name);
const i8_impl *i8_select(const char *name);
const popcount_impl *popcount_select(const char *name);
void f32_list(void);     /* writes the available names as a JSON array */
void i8_list(void);
void popcount_list(void);

/* Bit-serial GEMM: C[M][N] = sum over bit planes of popcount(A_i & W_j) << (i + j). */
enum { LAYOUT_PLANES_OUTER = 0, LAYOUT_WORDS_OUTER = 1 };
size_t bits_packed_words(int rows, int K, int bits);
void bits_pack(const uint8_t *src, int rows, int K, int bits, int layout, uint64_t *dst);
/* Weights in the layout gemm_bitserial reads (planes_outer: 8-column panels, padded); packed once, before timing. */
size_t bits_weight_words(int N, int K, int bits, int layout);
void bits_pack_weights(const uint8_t *W, int N, int K, int bits, int layout, uint64_t *dst);
void gemm_bitserial(int M, int N, int K, const uint64_t *Ap, int a_bits, const uint64_t *Wp, int w_bits, int layout,
                    int32_t *C, int tn, int threads, const popcount_impl *pc);

/* ---- operations (agent_ops.c, agent_layers.c) ---- */
typedef struct {
  timing_t t;
  double ops, bytes;
  const char *kernel;
  const char *byte_model;
} measured_t;
typedef struct {
  int cin, cout, h, w, kh, kw, stride, pad;
} conv_shape;
int conv_out(int size, int k, int stride, int pad);
measured_t measure_dense(int M, int K, int N, int bits, const timing_cfg *cfg, int threads, int inject, uint64_t seed);
measured_t measure_gemm_f32(int M, int N, int K, const f32_impl *impl, int mc, int nc, int kc, const timing_cfg *cfg,
                            int threads, int inject, uint64_t seed);
measured_t measure_gemm_i8(int M, int N, int K, const i8_impl *impl, int tn, const timing_cfg *cfg, int threads, int inject,
                           uint64_t seed);
measured_t measure_gemm_bitserial(int M, int N, int K, int a_bits, int w_bits, int layout, int tn, const popcount_impl *pc,
                                  const timing_cfg *cfg, int threads, int inject, uint64_t seed);
measured_t measure_conv(const conv_shape *s, int bits, int direct, const timing_cfg *cfg, int threads, int inject,
                        uint64_t seed);

void op_info(void);
void op_peak_flops(void);
void op_bandwidth(void);
void op_gemm_f32(void);
void op_gemm_i8(void);
void op_gemm_bitserial(void);
void op_conv2d(void);
void op_network(void);
void op_sleep(void);

#endif
