/* Benchside board agent: timing (warm-up, number x repeat, median and spread), random data, allocation, core count. */
#include "agent.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

timing_cfg timing_from_args(void) {
  timing_cfg c;
  c.warmup = (int)arg_int("warmup", 1, 0, 1000);
  c.number = (int)arg_int("number", 0, 0, 1000000);
  c.repeat = (int)arg_int("repeat", 5, 1, 1000);
  c.min_repeat_s = arg_num("min_repeat_ms", 20, 0, 60000) / 1000.0;
  c.warmup_s = arg_num("warmup_ms", 0, 0, 60000) / 1000.0;
  return c;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double quantile(const double *sorted, int n, double q) {
  double pos = q * (n - 1);
  int lo = (int)floor(pos);
  int hi = lo + 1 < n ? lo + 1 : lo;
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

timing_t time_op(run_fn fn, void *ctx, const timing_cfg *cfg) {
  timing_t t;
  double *samples;
  int number = cfg->number;
  double warm_start = now_s();
  for (int i = 0; i < cfg->warmup; i++) fn(ctx);
  /* A freshly started process can run slowly for a few hundred ms on a busy machine; warmup_ms keeps it untimed. */
  while (now_s() - warm_start < cfg->warmup_s) fn(ctx);
  if (number == 0) {
    /* Like TVM's min_repeat_ms: grow `number` until one repeat lasts long enough for the clock to resolve it. */
    number = 1;
    for (;;) {
      double t0 = now_s(), elapsed;
      for (int i = 0; i < number; i++) fn(ctx);
      elapsed = now_s() - t0;
      if (elapsed >= cfg->min_repeat_s || number >= 1000000) break;
      if (elapsed <= 0) {
        number *= 10;
      } else {
        double want = cfg->min_repeat_s / elapsed * number * 1.1;
        number = want > number * 2.0 ? (int)fmin(want, 1000000) : number * 2;
      }
    }
  }
  samples = xalloc(sizeof(double) * (size_t)cfg->repeat);
  for (int r = 0; r < cfg->repeat; r++) {
    double t0 = now_s();
    for (int i = 0; i < number; i++) fn(ctx);
    samples[r] = (now_s() - t0) / number;
  }
  qsort(samples, (size_t)cfg->repeat, sizeof(double), cmp_double);
  t.number = number;
  t.repeat = cfg->repeat;
  t.min = samples[0];
  t.max = samples[cfg->repeat - 1];
  t.median = quantile(samples, cfg->repeat, 0.5);
  t.q1 = quantile(samples, cfg->repeat, 0.25);
  t.q3 = quantile(samples, cfg->repeat, 0.75);
  free(samples);
  return t;
}

void jw_timing(const timing_t *t) {
  jw_knum("median_s", t->median);
  jw_knum("min_s", t->min);
  jw_knum("max_s", t->max);
  jw_knum("q1_s", t->q1);
  jw_knum("q3_s", t->q3);
  jw_kint("number", t->number);
  jw_kint("repeat", t->repeat);
}

void jw_derived(const timing_t *t, double ops, double bytes, const char *byte_model) {
  jw_knum("ops", ops);
  jw_knum("gops_per_s", ops / t->median / 1e9);
  jw_knum("bytes", bytes);
  jw_knum("intensity_ops_per_byte", bytes > 0 ? ops / bytes : 0);
  jw_kstr("byte_model", byte_model);
}

void *xalloc(size_t bytes) {
  void *p = NULL;
  if (bytes == 0) bytes = 64;
  /* 64-byte alignment keeps vector loads on cache-line boundaries. */
  if (posix_memalign(&p, 64, (bytes + 63) / 64 * 64) != 0 || !p)
    die("could not allocate %.0f MB on the board; use smaller sizes", bytes / 1e6);
  memset(p, 0, bytes);
  return p;
}

void check_elems(const char *what, double count) {
  if (count > (double)(1 << 28)) die("%s has %.0f elements, more than the agent's limit of 2^28; use smaller sizes", what, count);
}

uint64_t rng_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

float rng_f32(uint64_t *s) { return (float)((rng_next(s) >> 40) * (1.0 / 16777216.0) * 2.0 - 1.0); }

int cpu_cores(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

int threads_from_args(void) {
  int threads = (int)arg_int("threads", 1, 1, 1024);
#ifndef _OPENMP
  if (threads > 1) die("threads=%d needs OpenMP, and this agent was compiled without it (no -fopenmp); use threads=1", threads);
#endif
  return threads;
}
