/* Benchside board agent: the operations (info, peak_flops, bandwidth, gemm_*, conv2d, network, sleep):
   each reads its arguments, rejects unknown ones, measures, and writes its part of the answer. */
#include "agent.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

static const char *const OPERATIONS[] = {"info", "peak_flops", "bandwidth", "gemm_f32", "gemm_i8",
                                         "gemm_bitserial", "conv2d", "network"};

static const char *arch_name(void) {
#if defined(__x86_64__) || defined(_M_X64)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#elif defined(__arm__)
  return "arm";
#elif defined(__i386__)
  return "x86";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#elif defined(__powerpc64__)
  return "ppc64";
#else
  return "unknown";
#endif
}

static long parse_size(const char *text) {
  char *end;
  long v = strtol(text, &end, 10);
  if (*end == 'K') v *= 1024;
  else if (*end == 'M') v *= 1024 * 1024;
  else if (*end == 'G') v *= 1024L * 1024 * 1024;
  return v;
}

static int read_line(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "r");
  size_t n;
  if (!f) return 0;
  n = fgets(buf, (int)cap, f) ? strlen(buf) : 0;
  fclose(f);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = 0;
  return n > 0;
}

/* Linux sysfs lists the caches of cpu0; elsewhere the list is empty. */
static void jw_caches(void) {
  jw_key("caches");
  jw_arr_begin();
  for (int i = 0; i < 8; i++) {
    char path[128], level[16], type[32], size[32];
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
    if (!read_line(path, level, sizeof level)) break;
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
    if (!read_line(path, type, sizeof type)) continue;
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
    if (!read_line(path, size, sizeof size)) continue;
    jw_obj_begin();
    jw_kint("level", atoi(level));
    jw_kstr("type", type);
    jw_kint("size_bytes", parse_size(size));
    jw_obj_end();
  }
  jw_arr_end();
}

void op_info(void) {
  struct utsname u;
  args_reject_unused("info");
  jw_kstr("agent_version", BS_AGENT_VERSION);
  jw_kint("protocol", BS_PROTOCOL);
  jw_kstr("arch", arch_name());
  if (uname(&u) == 0) jw_kstr("os", u.sysname), jw_kstr("machine", u.machine), jw_kstr("hostname", u.nodename);
#if defined(__clang__)
  jw_kstr("compiler", "clang " __clang_version__);
#elif defined(__GNUC__)
  jw_kstr("compiler", "gcc " __VERSION__);
#else
  jw_kstr("compiler", "unknown");
#endif
  jw_kstr("cflags", BS_CFLAGS);
  jw_kint("cores", cpu_cores());
#ifdef _OPENMP
  jw_kbool("openmp", 1);
  jw_kint("openmp_max_threads", omp_get_max_threads());
#else
  jw_kbool("openmp", 0);
#endif
  jw_kstr("simd", f32_select(NULL)->name);
  jw_key("simd_paths"), f32_list();
  jw_key("int8_paths"), i8_list();
  jw_key("popcount_paths"), popcount_list();
  jw_caches();
  jw_key("operations");
  jw_arr_begin();
  for (size_t i = 0; i < sizeof OPERATIONS / sizeof OPERATIONS[0]; i++) jw_str(OPERATIONS[i]);
  jw_arr_end();
}

/* ---- peak FLOP/s: one core, then all cores with pthreads ---- */
static volatile float g_sink;

typedef struct {
  const f32_impl *impl;
  long iters;
  int threads;
  const float *buf;
  size_t n;
  long passes;
} par_ctx;

static void *peak_thread(void *p) {
  par_ctx *c = p;
  g_sink += c->impl->peak(c->iters);
  return NULL;
}

static void run_peak_1(void *p) { g_sink += ((par_ctx *)p)->impl->peak(((par_ctx *)p)->iters); }

static void run_threads(par_ctx *ctxs, int threads, void *(*fn)(void *)) {
  pthread_t ids[1024];
  for (int t = 0; t < threads; t++)
    if (pthread_create(&ids[t], NULL, fn, &ctxs[t]) != 0) die("could not start thread %d of %d", t + 1, threads);
  for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
}

static void run_peak_all(void *p) {
  par_ctx *c = p;
  run_threads(c, c[0].threads, peak_thread);
}

void op_peak_flops(void) {
  const f32_impl *impl = f32_select(arg_str("simd", NULL));
  long iters = (long)arg_int("iterations", 1L << 20, 1, 1L << 30);
  int threads = (int)arg_int("threads", cpu_cores(), 1, 1024);
  timing_cfg cfg = timing_from_args();
  double flops = 2.0 * iters * impl->peak_acc * impl->vw;
  par_ctx ctxs[1024];
  timing_t one, all;
  args_reject_unused("peak_flops");
  for (int t = 0; t < threads; t++) ctxs[t].impl = impl, ctxs[t].iters = iters, ctxs[t].threads = threads;
  one = time_op(run_peak_1, &ctxs[0], &cfg);
  all = time_op(run_peak_all, ctxs, &cfg);
  jw_kstr("simd", impl->name);
  jw_kint("vector_width", impl->vw);
  jw_kint("accumulators", impl->peak_acc);
  jw_knum("flops_per_call", flops);
  jw_key("per_core");
  jw_obj_begin();
  jw_timing(&one);
  jw_knum("gflops_per_s", flops / one.median / 1e9);
  jw_knum("gflops_per_s_best", flops / one.min / 1e9);
  jw_obj_end();
  jw_key("all_cores");
  jw_obj_begin();
  jw_kint("threads", threads);
  jw_timing(&all);
  jw_knum("gflops_per_s", flops * threads / all.median / 1e9);
  jw_knum("gflops_per_s_best", flops * threads / all.min / 1e9);
  jw_obj_end();
}

/* ---- read bandwidth for one working-set size ---- */
static void *read_thread(void *p) {
  par_ctx *c = p;
  g_sink += c->impl->read(c->buf, c->n, c->passes);
  return NULL;
}
static void run_read(void *p) {
  par_ctx *c = p;
  if (c[0].threads == 1)
    read_thread(c);
  else
    run_threads(c, c[0].threads, read_thread);
}

void op_bandwidth(void) {
  const f32_impl *impl = f32_select(arg_str("simd", NULL));
  long long bytes = arg_int("bytes", 32768, 64, 1LL << 34);
  int threads = (int)arg_int("threads", 1, 1, 1024);
  timing_cfg cfg = timing_from_args();
  size_t n = (size_t)bytes / sizeof(float) / impl->read_block * impl->read_block;
  /* Enough passes that one call reads >= 4 MB, so call overhead does not hide small working sets. */
  long passes = (long)arg_int("passes", (long long)fmax(1.0, ceil((4.0 * 1024 * 1024) / (double)bytes)), 1, 1L << 30);
  par_ctx ctxs[1024];
  double moved;
  timing_t t;
  args_reject_unused("bandwidth");
  if (n == 0) die("bytes=%lld is smaller than one read block of %zu bytes", bytes, impl->read_block * sizeof(float));
  check_elems("the working set", (double)n * threads);
  for (int i = 0; i < threads; i++) {
    float *buf = xalloc(n * sizeof(float));
    for (size_t k = 0; k < n; k++) buf[k] = (float)(k & 7);
    ctxs[i].impl = impl, ctxs[i].buf = buf, ctxs[i].n = n, ctxs[i].passes = passes, ctxs[i].threads = threads;
  }
  t = time_op(run_read, ctxs, &cfg);
  moved = (double)n * sizeof(float) * passes * threads;
  jw_kstr("simd", impl->name);
  jw_kint("working_set_bytes", (long long)(n * sizeof(float)));
  jw_kint("threads", threads);
  jw_kint("passes", passes);
  jw_knum("bytes_read", moved);
  jw_timing(&t);
  jw_knum("gb_per_s", moved / t.median / 1e9);
  jw_knum("gb_per_s_best", moved / t.min / 1e9);
  for (int i = 0; i < threads; i++) free((void *)ctxs[i].buf);
}

/* ---- GEMMs and convolution ---- */
static void jw_measured(const measured_t *m) {
  jw_kstr("kernel", m->kernel);
  jw_timing(&m->t);
  jw_derived(&m->t, m->ops, m->bytes, m->byte_model);
}

static uint64_t seed_from_args(void) { return (uint64_t)arg_int("seed", 42, 1, 1LL << 40); }

void op_gemm_f32(void) {
  int M = (int)arg_int("m", 64, 1, 1 << 20), N = (int)arg_int("n", 64, 1, 1 << 20), K = (int)arg_int("k", 64, 1, 1 << 20);
  const f32_impl *impl = f32_select(arg_str("simd", NULL));
  int tile = (int)arg_int("tile", 0, 0, 1 << 16);
  int mc = (int)arg_int("tile_m", tile, 0, 1 << 16), nc = (int)arg_int("tile_n", tile, 0, 1 << 16),
      kc = (int)arg_int("tile_k", tile, 0, 1 << 16);
  int threads = threads_from_args(), inject = arg_bool("inject_error", 0);
  uint64_t seed = seed_from_args();
  timing_cfg cfg = timing_from_args();
  measured_t m;
  args_reject_unused("gemm_f32");
  m = measure_gemm_f32(M, N, K, impl, mc, nc, kc, &cfg, threads, inject, seed);
  jw_kint("m", M), jw_kint("n", N), jw_kint("k", K);
  jw_kstr("simd", impl->name);
  jw_kint("threads", threads);
  jw_key("tile");
  jw_obj_begin();
  jw_kint("m", (mc > 0 ? mc : 96 + impl->mr - 1) / impl->mr * impl->mr);
  jw_kint("n", ((nc > 0 ? nc : impl->default_nc) + impl->nr - 1) / impl->nr * impl->nr);
  jw_kint("k", kc > 0 ? kc : impl->default_kc);
  jw_kint("micro_m", impl->mr), jw_kint("micro_n", impl->nr);
  jw_obj_end();
  jw_measured(&m);
}

void op_gemm_i8(void) {
  int M = (int)arg_int("m", 64, 1, 1 << 20), N = (int)arg_int("n", 64, 1, 1 << 20), K = (int)arg_int("k", 64, 1, 1 << 20);
  const i8_impl *impl = i8_select(arg_str("simd", NULL));
  int tn = (int)arg_int("tile_n", 64, 1, 1 << 20);
  int threads = threads_from_args(), inject = arg_bool("inject_error", 0);
  uint64_t seed = seed_from_args();
  timing_cfg cfg = timing_from_args();
  measured_t m;
  args_reject_unused("gemm_i8");
  m = measure_gemm_i8(M, N, K, impl, tn, &cfg, threads, inject, seed);
  jw_kint("m", M), jw_kint("n", N), jw_kint("k", K);
  jw_kstr("simd", impl->name);
  jw_kstr("layout", "A row-major M x K, B stored transposed N x K");
  jw_kint("threads", threads);
  jw_kint("tile_n", tn);
  jw_measured(&m);
}

static int parse_layout(const char *name) {
  if (strcmp(name, "planes_outer") == 0) return LAYOUT_PLANES_OUTER;
  if (strcmp(name, "words_outer") == 0) return LAYOUT_WORDS_OUTER;
  die("layout '%s' is not known; use 'planes_outer' ([row][bit][64-bit word along K]) or 'words_outer' ([row][word][bit])", name);
}

void op_gemm_bitserial(void) {
  int M = (int)arg_int("m", 64, 1, 1 << 20), N = (int)arg_int("n", 64, 1, 1 << 20), K = (int)arg_int("k", 64, 1, 1 << 20);
  int a_bits = (int)arg_int("a_bits", 1, 1, 8), w_bits = (int)arg_int("w_bits", 1, 1, 8);
  const char *layout_name = arg_str("layout", "planes_outer");
  int layout = parse_layout(layout_name);
  const popcount_impl *pc = popcount_select(arg_str("popcount", NULL));
  int tn = (int)arg_int("tile_n", 64, 1, 1 << 20);
  int threads = threads_from_args(), inject = arg_bool("inject_error", 0);
  uint64_t seed = seed_from_args();
  timing_cfg cfg = timing_from_args();
  measured_t m;
  args_reject_unused("gemm_bitserial");
  m = measure_gemm_bitserial(M, N, K, a_bits, w_bits, layout, tn, pc, &cfg, threads, inject, seed);
  jw_kint("m", M), jw_kint("n", N), jw_kint("k", K);
  jw_kint("a_bits", a_bits), jw_kint("w_bits", w_bits);
  jw_kstr("layout", layout_name);
  /* words_outer always counts bits with the scalar popcount; only planes_outer runs the vector popcount paths. */
  jw_kstr("popcount", layout == LAYOUT_PLANES_OUTER ? pc->name : "scalar");
  jw_kint("threads", threads);
  if (layout == LAYOUT_PLANES_OUTER) {
    /* The column block is rounded up to whole micro-tiles. */
    jw_kint("tile_n", (tn + pc->cols - 1) / pc->cols * pc->cols);
    jw_kint("micro_m", pc->rows), jw_kint("micro_n", pc->cols);
  } else {
    jw_kint("tile_n", tn);
  }
  jw_measured(&m);
}

static int conv_method_direct(const char *name) {
  if (strcmp(name, "im2col") == 0) return 0;
  if (strcmp(name, "direct") == 0) return 1;
  die("conv method '%s' is not known; use 'im2col' or 'direct'", name);
}

static void jw_conv_shape(const conv_shape *s) {
  jw_kint("cin", s->cin), jw_kint("cout", s->cout), jw_kint("h", s->h), jw_kint("w", s->w);
  jw_kint("kh", s->kh), jw_kint("kw", s->kw), jw_kint("stride", s->stride), jw_kint("pad", s->pad);
  jw_kint("ho", conv_out(s->h, s->kh, s->stride, s->pad)), jw_kint("wo", conv_out(s->w, s->kw, s->stride, s->pad));
}

void op_conv2d(void) {
  conv_shape s;
  int k = (int)arg_int("k", 3, 1, 64);
  const char *method;
  int bits, threads, inject;
  uint64_t seed;
  timing_cfg cfg;
  measured_t m;
  s.cin = (int)arg_int("cin", 8, 1, 1 << 16), s.cout = (int)arg_int("cout", 8, 1, 1 << 16);
  s.h = (int)arg_int("h", 16, 1, 1 << 16), s.w = (int)arg_int("w", 16, 1, 1 << 16);
  s.kh = (int)arg_int("kh", k, 1, 64), s.kw = (int)arg_int("kw", k, 1, 64);
  s.stride = (int)arg_int("stride", 1, 1, 64), s.pad = (int)arg_int("pad", 0, 0, 64);
  method = arg_str("method", "im2col");
  bits = (int)arg_int("bits", 32, 1, 32);
  threads = threads_from_args(), inject = arg_bool("inject_error", 0);
  seed = seed_from_args();
  cfg = timing_from_args();
  args_reject_unused("conv2d");
  m = measure_conv(&s, bits, conv_method_direct(method), &cfg, threads, inject, seed);
  jw_conv_shape(&s);
  jw_kstr("method", method);
  jw_kint("bits", bits);
  jw_kint("threads", threads);
  jw_measured(&m);
}

/* ---- whole network: model "dense:in=784,out=256;conv:cin=3,cout=16,h=32,w=32,k=3,stride=1,pad=1" ---- */
typedef struct {
  int is_conv;
  int in, out; /* dense */
  conv_shape c;
} layer_t;

static int layer_field(const char *spec, const char *name, int fallback, int index) {
  size_t len = strlen(name);
  const char *p = spec;
  while ((p = strstr(p, name)) != NULL) {
    if ((p == spec || p[-1] == ',' || p[-1] == ':') && p[len] == '=') {
      char *end;
      long v = strtol(p + len + 1, &end, 10);
      if (end == p + len + 1 || (*end != ',' && *end != 0) || v < 1 || v > (1 << 20))
        die("layer %d of the model: '%s' must be a positive integer", index, name);
      return (int)v;
    }
    p += len;
  }
  if (fallback < 0) die("layer %d of the model has no '%s='", index, name);
  return fallback;
}

static int parse_model(const char *model, layer_t *layers, int cap) {
  int n = 0;
  const char *p = model;
  while (*p) {
    char spec[256];
    const char *end = strchr(p, ';');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    layer_t *l;
    if (len == 0 || len >= sizeof spec) die("layer %d of the model is empty or longer than 255 characters", n);
    if (n >= cap) die("the model has more than %d layers", cap);
    memcpy(spec, p, len), spec[len] = 0;
    l = &layers[n];
    memset(l, 0, sizeof *l);
    if (strncmp(spec, "dense:", 6) == 0) {
      l->in = layer_field(spec + 6, "in", -1, n), l->out = layer_field(spec + 6, "out", -1, n);
    } else if (strncmp(spec, "conv:", 5) == 0) {
      const char *f = spec + 5;
      int k = layer_field(f, "k", 3, n);
      l->is_conv = 1;
      l->c.cin = layer_field(f, "cin", -1, n), l->c.cout = layer_field(f, "cout", -1, n);
      l->c.h = layer_field(f, "h", -1, n), l->c.w = layer_field(f, "w", -1, n);
      l->c.kh = layer_field(f, "kh", k, n), l->c.kw = layer_field(f, "kw", k, n);
      l->c.stride = layer_field(f, "stride", 1, n);
      l->c.pad = strstr(f, "pad=") ? (int)strtol(strstr(f, "pad=") + 4, NULL, 10) : 0;
      if (l->c.pad < 0 || l->c.pad > 64) die("layer %d of the model: 'pad' must be from 0 to 64", n);
    } else {
      die("layer %d of the model must start with 'dense:' or 'conv:', got '%s'", n, spec);
    }
    n++;
    p += len;
    if (*p == ';') p++;
  }
  if (n == 0) die("the model has no layers");
  return n;
}

static int kept(int channels, double fraction) {
  int v = (int)lround(channels * fraction);
  return v < 1 ? 1 : v;
}

void op_network(void) {
  static layer_t layers[256];
  const char *model = arg_str("model", NULL);
  const double *keep, *bits;
  int nkeep = arg_arr("keep", &keep), nbits = arg_arr("bits", &bits);
  int batch = (int)arg_int("batch", 1, 1, 1 << 16);
  int direct = conv_method_direct(arg_str("conv_method", "im2col"));
  int threads = threads_from_args(), inject = arg_bool("inject_error", 0);
  uint64_t seed = seed_from_args();
  timing_cfg cfg = timing_from_args();
  double prev_fraction = 1.0, total_median = 0, total_min = 0, total_max = 0, total_ops = 0;
  int n;
  if (!model) die("operation 'network' needs a 'model' string, e.g. \"dense:in=784,out=256;dense:in=256,out=10\"");
  args_reject_unused("network");
  n = parse_model(model, layers, 256);
  if (nkeep && nkeep != n) die("'keep' has %d values but the model has %d layers", nkeep, n);
  if (nbits && nbits != n) die("'bits' has %d values but the model has %d layers", nbits, n);
  jw_kint("batch", batch);
  jw_key("layers");
  jw_arr_begin();
  for (int i = 0; i < n; i++) {
    layer_t *l = &layers[i];
    double fraction = nkeep ? keep[i] : 1.0;
    int b = nbits ? (int)bits[i] : 32;
    measured_t m;
    if (!(fraction > 0 && fraction <= 1)) die("keep[%d] = %g must be in (0, 1]", i, fraction);
    if (nbits && (bits[i] != floor(bits[i]) || b < 1 || b > 32)) die("bits[%d] = %g must be an integer from 1 to 32", i, bits[i]);
    snprintf(g_error_context, sizeof g_error_context, "layer %d (%s): ", i, l->is_conv ? "conv" : "dense");
    jw_obj_begin();
    jw_kint("index", i);
    jw_kstr("type", l->is_conv ? "conv" : "dense");
    jw_knum("keep", fraction);
    jw_kint("bits", b);
    /* Pruning a layer's output channels shrinks the next layer's inputs by the same kept fraction. */
    if (l->is_conv) {
      conv_shape s = l->c;
      s.cin = kept(s.cin, prev_fraction);
      s.cout = kept(s.cout, fraction);
      prev_fraction = (double)s.cout / l->c.cout;
      m = measure_conv(&s, b, direct && b >= 9, &cfg, threads, inject && i == 0, seed + (uint64_t)i);
      jw_conv_shape(&s);
    } else {
      int in = kept(l->in, prev_fraction), out = kept(l->out, fraction);
      prev_fraction = (double)out / l->out;
      m = measure_dense(batch, in, out, b, &cfg, threads, inject && i == 0, seed + (uint64_t)i);
      jw_kint("in", in), jw_kint("out", out);
    }
    jw_measured(&m);
    jw_obj_end();
    total_median += m.t.median, total_min += m.t.min, total_max += m.t.max, total_ops += m.ops;
  }
  g_error_context[0] = 0;
  jw_arr_end();
  jw_key("total");
  jw_obj_begin();
  jw_knum("median_s", total_median);
  jw_knum("min_s", total_min);
  jw_knum("max_s", total_max);
  jw_knum("ops", total_ops);
  jw_obj_end();
}

/* Debug only: lets tests prove that a hung agent is stopped. Refused unless "debug": true. */
void op_sleep(void) {
  double seconds = arg_num("seconds", 1, 0, 3600);
  struct timespec ts;
  if (!arg_bool("debug", 0)) die("unknown operation 'sleep'");
  args_reject_unused("sleep");
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0) {
  }
  jw_knum("slept_s", seconds);
}
