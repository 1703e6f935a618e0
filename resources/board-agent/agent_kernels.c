/* Benchside board agent: the compute kernels per SIMD path (scalar always; AVX2/FMA, AVX-512, NEON where compiled)
   and the bit-serial packing and GEMM. Paths are chosen at run time by name among those compiled in. */
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
#if defined(__ARM_NEON)
#include <arm_neon.h>
#endif

#define STR_(x) #x
#define STR(x) STR_(x)

static volatile float g_peak_operands[3] = {0.9999999f, 1e-7f, 1.0f};

/* ================= scalar: plain C, the compiler may still auto-vectorize it ================= */
#define SFX scalar
#define VF float
#define VW 1
#define VZERO() 0.0f
#define VLOAD(p) (*(p))
#define VSTORE(p, v) (*(p) = (v))
#define VSET1(x) (x)
#define VADD(a, b) ((a) + (b))
#define VFMA(a, b, c) ((a) * (b) + (c))
#define MR 4
#define NV 4
#define PEAK_ACC 8
#define DEFAULT_KC 256
#define DEFAULT_NC 512
#include "agent_f32.inc"
#undef SFX
#undef VF
#undef VW
#undef VZERO
#undef VLOAD
#undef VSTORE
#undef VSET1
#undef VADD
#undef VFMA
#undef MR
#undef NV
#undef PEAK_ACC
#undef DEFAULT_KC
#undef DEFAULT_NC

#define SFX scalar
#define I8V int32_t
#define I8CH 1
#define I8LOAD(p) ((int32_t) * (p))
#define I32ACC int32_t
#define ACC_ZERO() 0
#define ACC_MADD(acc, a, b) ((acc) + (a) * (b))
#define ACC_RED(acc) (acc)
#include "agent_i8.inc"
#undef SFX
#undef I8V
#undef I8CH
#undef I8LOAD
#undef I32ACC
#undef ACC_ZERO
#undef ACC_MADD
#undef ACC_RED

/* ================= x86 AVX2 + FMA ================= */
#if defined(__AVX2__) && defined(__FMA__)
#define SFX avx2
#define VF __m256
#define VW 8
#define VZERO() _mm256_setzero_ps()
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VSET1(x) _mm256_set1_ps(x)
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define MR 6
#define NV 2
#define PEAK_ACC 12
#define DEFAULT_KC 256
#define DEFAULT_NC 512
#include "agent_f32.inc"
#undef SFX
#undef VF
#undef VW
#undef VZERO
#undef VLOAD
#undef VSTORE
#undef VSET1
#undef VADD
#undef VFMA
#undef MR
#undef NV
#undef PEAK_ACC
#undef DEFAULT_KC
#undef DEFAULT_NC

static inline int32_t avx2_hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}
#define SFX avx2
#define I8V __m256i
#define I8CH 16
#define I8LOAD(p) _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define I32ACC __m256i
#define ACC_ZERO() _mm256_setzero_si256()
#define ACC_MADD(acc, a, b) _mm256_add_epi32((acc), _mm256_madd_epi16((a), (b)))
#define ACC_RED(acc) avx2_hsum_epi32(acc)
#include "agent_i8.inc"
#undef SFX
#undef I8V
#undef I8CH
#undef I8LOAD
#undef I32ACC
#undef ACC_ZERO
#undef ACC_MADD
#undef ACC_RED
#endif

/* ================= x86 AVX-512 ================= */
#if defined(__AVX512F__)
#define SFX avx512
#define VF __m512
#define VW 16
#define VZERO() _mm512_setzero_ps()
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define VSET1(x) _mm512_set1_ps(x)
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define MR 6
#define NV 4
#define PEAK_ACC 16
#define DEFAULT_KC 128
#define DEFAULT_NC 1024
#include "agent_f32.inc"
#undef SFX
#undef VF
#undef VW
#undef VZERO
#undef VLOAD
#undef VSTORE
#undef VSET1
#undef VADD
#undef VFMA
#undef MR
#undef NV
#undef PEAK_ACC
#undef DEFAULT_KC
#undef DEFAULT_NC
#endif

#if defined(__AVX512BW__)
#define SFX avx512
#define I8V __m512i
#define I8CH 32
#define I8LOAD(p) _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(p)))
#define I32ACC __m512i
#define ACC_ZERO() _mm512_setzero_si512()
#if defined(__AVX512VNNI__)
#define ACC_MADD(acc, a, b) _mm512_dpwssd_epi32((acc), (a), (b))
#else
#define ACC_MADD(acc, a, b) _mm512_add_epi32((acc), _mm512_madd_epi16((a), (b)))
#endif
#define ACC_RED(acc) _mm512_reduce_add_epi32(acc)
#include "agent_i8.inc"
#undef SFX
#undef I8V
#undef I8CH
#undef I8LOAD
#undef I32ACC
#undef ACC_ZERO
#undef ACC_MADD
#undef ACC_RED
#endif

/* ================= ARM NEON (never run on real hardware yet, see docs/board-agent.md) ================= */
#if defined(__ARM_NEON)
#if defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
#define NEON_FMA(a, b, c) vfmaq_f32((c), (a), (b))
#else
#define NEON_FMA(a, b, c) vmlaq_f32((c), (a), (b))
#endif
#define SFX neon
#define VF float32x4_t
#define VW 4
#define VZERO() vdupq_n_f32(0.0f)
#define VLOAD(p) vld1q_f32(p)
#define VSTORE(p, v) vst1q_f32((p), (v))
#define VSET1(x) vdupq_n_f32(x)
#define VADD(a, b) vaddq_f32((a), (b))
#define VFMA(a, b, c) NEON_FMA(a, b, c)
#if defined(__aarch64__)
#define MR 8
#define NV 3
#define PEAK_ACC 16
#else
#define MR 4
#define NV 2
#define PEAK_ACC 8
#endif
#define DEFAULT_KC 256
#define DEFAULT_NC 512
#include "agent_f32.inc"
#undef SFX
#undef VF
#undef VW
#undef VZERO
#undef VLOAD
#undef VSTORE
#undef VSET1
#undef VADD
#undef VFMA
#undef MR
#undef NV
#undef PEAK_ACC
#undef DEFAULT_KC
#undef DEFAULT_NC

static inline int32_t neon_hsum_s32(int32x4_t v) {
#if defined(__aarch64__)
  return vaddvq_s32(v);
#else
  return vgetq_lane_s32(v, 0) + vgetq_lane_s32(v, 1) + vgetq_lane_s32(v, 2) + vgetq_lane_s32(v, 3);
#endif
}
static inline int32x4_t neon_madd_s8(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
  return vdotq_s32(acc, a, b);
#else
  acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
  return vpadalq_s16(acc, vmull_s8(vget_high_s8(a), vget_high_s8(b)));
#endif
}
#define SFX neon
#define I8V int8x16_t
#define I8CH 16
#define I8LOAD(p) vld1q_s8(p)
#define I32ACC int32x4_t
#define ACC_ZERO() vdupq_n_s32(0)
#define ACC_MADD(acc, a, b) neon_madd_s8((acc), (a), (b))
#define ACC_RED(acc) neon_hsum_s32(acc)
#include "agent_i8.inc"
#undef SFX
#undef I8V
#undef I8CH
#undef I8LOAD
#undef I32ACC
#undef ACC_ZERO
#undef ACC_MADD
#undef ACC_RED
#endif

/* ================= path tables: the last entry is the best path compiled in ================= */
static const f32_impl *const f32_impls[] = {
    &f32_impl_of_scalar,
#if defined(__AVX2__) && defined(__FMA__)
    &f32_impl_of_avx2,
#endif
#if defined(__AVX512F__)
    &f32_impl_of_avx512,
#endif
#if defined(__ARM_NEON)
    &f32_impl_of_neon,
#endif
};
static const i8_impl *const i8_impls[] = {
    &i8_impl_of_scalar,
#if defined(__AVX2__) && defined(__FMA__)
    &i8_impl_of_avx2,
#endif
#if defined(__AVX512BW__)
    &i8_impl_of_avx512,
#endif
#if defined(__ARM_NEON)
    &i8_impl_of_neon,
#endif
};

/* ================= bit-serial GEMM: popcount paths ================= */
static inline uint64_t popcount64(uint64_t x) {
#if defined(__GNUC__)
  return (uint64_t)__builtin_popcountll(x);
#else
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return (x * 0x0101010101010101ULL) >> 56;
#endif
}

/* scalar: 4 rows x 4 columns of 64-bit counters (x86-64 has 16 general registers). */
#define SFX scalar
#define BV uint64_t
#define VL 1
#define BR 4
#define BVN 4
#define BZERO() 0
#define BSHL1(x) ((x) << 1)
#define BADD(a, b) ((a) + (b))
#define BBCAST(x) (x)
#define BLOADW(p) (*(p))
#define BPOPAND(x, w) popcount64((x) & (w))
#define BSTORE32(dst, acc, n) (*(dst) = (int32_t)(acc), (void)(n))
#include "agent_bits.inc"

#if defined(__AVX512F__) && defined(__AVX512VPOPCNTDQ__)
/* Micro-tile rows x 8-column vectors, chosen by measurement on Zen 5 (overridable for tuning with -D). */
#ifndef BS_AVX512_ROWS
#define BS_AVX512_ROWS 6
#endif
#ifndef BS_AVX512_VECS
#define BS_AVX512_VECS 4
#endif
static inline void avx512_store32(int32_t *dst, __m512i acc, int n) {
  _mm512_mask_cvtepi64_storeu_epi32(dst, (__mmask8)(n >= 8 ? 0xff : (1u << n) - 1), acc);
}
#define SFX avx512
#define BV __m512i
#define VL 8
#define BR BS_AVX512_ROWS
#define BVN BS_AVX512_VECS
#define BZERO() _mm512_setzero_si512()
#define BSHL1(x) _mm512_add_epi64((x), (x))
#define BADD(a, b) _mm512_add_epi64((a), (b))
#define BBCAST(x) _mm512_set1_epi64((long long)(x))
#define BLOADW(p) _mm512_loadu_si512((const void *)(p))
#define BPOPAND(x, w) _mm512_popcnt_epi64(_mm512_and_si512((x), (w)))
#define BSTORE32(dst, acc, n) avx512_store32((dst), (acc), (n))
#include "agent_bits.inc"
#endif

#if defined(__ARM_NEON)
/* vcnt counts bytes; pairwise widening adds bring the counts back to one per 64-bit lane. */
static inline uint64x2_t neon_popand(uint64x2_t x, uint64x2_t w) {
  return vpaddlq_u32(vpaddlq_u16(vpaddlq_u8(vcntq_u8(vreinterpretq_u8_u64(vandq_u64(x, w))))));
}
static inline void neon_store32(int32_t *dst, uint64x2_t acc, int n) {
  dst[0] = (int32_t)vgetq_lane_u64(acc, 0);
  if (n > 1) dst[1] = (int32_t)vgetq_lane_u64(acc, 1);
}
#define SFX neon
#define BV uint64x2_t
#define VL 2
#define BR 4
#define BVN 4
#define BZERO() vdupq_n_u64(0)
#define BSHL1(x) vshlq_n_u64((x), 1)
#define BADD(a, b) vaddq_u64((a), (b))
#define BBCAST(x) vdupq_n_u64(x)
#define BLOADW(p) vld1q_u64(p)
#define BPOPAND(x, w) neon_popand((x), (w))
#define BSTORE32(dst, acc, n) neon_store32((dst), (acc), (n))
#include "agent_bits.inc"
#endif

static const popcount_impl *const popcount_impls[] = {
    &popcount_impl_of_scalar,
#if defined(__AVX512F__) && defined(__AVX512VPOPCNTDQ__)
    &popcount_impl_of_avx512,
#endif
#if defined(__ARM_NEON)
    &popcount_impl_of_neon,
#endif
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void list_names(const char *const *names, int n) {
  jw_arr_begin();
  for (int i = 0; i < n; i++) jw_str(names[i]);
  jw_arr_end();
}

const f32_impl *f32_select(const char *name) {
  if (!name || strcmp(name, "auto") == 0) return f32_impls[COUNT(f32_impls) - 1];
  for (int i = 0; i < COUNT(f32_impls); i++)
    if (strcmp(f32_impls[i]->name, name) == 0) return f32_impls[i];
  die("SIMD path '%s' is not compiled into this agent; the 'info' operation lists the available paths", name);
}
const i8_impl *i8_select(const char *name) {
  if (!name || strcmp(name, "auto") == 0) return i8_impls[COUNT(i8_impls) - 1];
  for (int i = 0; i < COUNT(i8_impls); i++)
    if (strcmp(i8_impls[i]->name, name) == 0) return i8_impls[i];
  die("int8 SIMD path '%s' is not compiled into this agent; the 'info' operation lists the available paths", name);
}
const popcount_impl *popcount_select(const char *name) {
  if (!name || strcmp(name, "auto") == 0) return popcount_impls[COUNT(popcount_impls) - 1];
  for (int i = 0; i < COUNT(popcount_impls); i++)
    if (strcmp(popcount_impls[i]->name, name) == 0) return popcount_impls[i];
  die("popcount path '%s' is not compiled into this agent; the 'info' operation lists the available paths", name);
}
void f32_list(void) {
  const char *names[8];
  for (int i = 0; i < COUNT(f32_impls); i++) names[i] = f32_impls[i]->name;
  list_names(names, COUNT(f32_impls));
}
void i8_list(void) {
  const char *names[8];
  for (int i = 0; i < COUNT(i8_impls); i++) names[i] = i8_impls[i]->name;
  list_names(names, COUNT(i8_impls));
}
void popcount_list(void) {
  const char *names[8];
  for (int i = 0; i < COUNT(popcount_impls); i++) names[i] = popcount_impls[i]->name;
  list_names(names, COUNT(popcount_impls));
}

/* ================= bit-serial packing and GEMM ================= */
size_t bits_packed_words(int rows, int K, int bits) { return (size_t)rows * (size_t)bits * (size_t)((K + 63) / 64); }

/* Packs n <= 64 bytes into `bits` words, `stride` words apart: bit t of word b is bit b of src[t]; padding bits are 0. */
static void pack_chunk(const uint8_t *src, int n, int bits, uint64_t *out, size_t stride) {
#if defined(__AVX512BW__)
  /* One byte-test per plane turns 64 elements into one word. */
  __m512i v = _mm512_maskz_loadu_epi8(n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1), src);
  for (int b = 0; b < bits; b++) out[(size_t)b * stride] = (uint64_t)_mm512_test_epi8_mask(v, _mm512_set1_epi8((char)(1 << b)));
#else
  uint8_t tail[64];
  if (n < 64) {
    memset(tail, 0, sizeof tail);
    memcpy(tail, src, (size_t)n);
    src = tail;
  }
#if defined(__AVX2__)
  {
    __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)src), hi = _mm256_loadu_si256((const __m256i *)(const void *)(src + 32));
    for (int b = 0; b < bits; b++) {
      /* Shifting 16-bit lanes left by 7 - b moves bit b of each byte to that byte's top bit, which movemask collects. */
      __m128i sh = _mm_cvtsi32_si128(7 - b);
      uint32_t l = (uint32_t)_mm256_movemask_epi8(_mm256_sll_epi16(lo, sh)), h = (uint32_t)_mm256_movemask_epi8(_mm256_sll_epi16(hi, sh));
      out[(size_t)b * stride] = (uint64_t)l | (uint64_t)h << 32;
    }
  }
#elif defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  for (int b = 0; b < bits; b++) {
    uint64_t word = 0;
    for (int g = 0; g < 8; g++) {
      uint64_t x;
      memcpy(&x, src + 8 * g, 8);
      /* Bit b of each of the 8 bytes lands, without carries, in the top byte in element order. */
      word |= ((((x >> b) & 0x0101010101010101ULL) * 0x0102040810204080ULL) >> 56) << (8 * g);
    }
    out[(size_t)b * stride] = word;
  }
#else
  for (int b = 0; b < bits; b++) {
    uint64_t word = 0;
    for (int t = 0; t < 64; t++) word |= (uint64_t)((src[t] >> b) & 1u) << t;
    out[(size_t)b * stride] = word;
  }
#endif
#endif
}

/* planes_outer: dst[row][bit][word]; words_outer: dst[row][word][bit]. Bit k%64 of a word is element k; padding is 0. */
void bits_pack(const uint8_t *src, int rows, int K, int bits, int layout, uint64_t *dst) {
  int kw = (K + 63) / 64;
  for (int r = 0; r < rows; r++) {
    const uint8_t *row = src + (size_t)r * K;
    for (int w = 0; w < kw; w++) {
      int n = K - 64 * w < 64 ? K - 64 * w : 64;
      if (layout == LAYOUT_PLANES_OUTER)
        pack_chunk(row + 64 * w, n, bits, dst + (size_t)r * bits * kw + w, (size_t)kw);
      else
        pack_chunk(row + 64 * w, n, bits, dst + ((size_t)r * kw + w) * bits, 1);
    }
  }
}

/* Weight rows are padded to a multiple of BS_PANEL_PAD columns, the widest micro-tile of any path. */
#define BS_PANEL_PAD 32
size_t bits_weight_words(int N, int K, int bits, int layout) {
  return bits_packed_words(layout == LAYOUT_PLANES_OUTER ? (N + BS_PANEL_PAD - 1) / BS_PANEL_PAD * BS_PANEL_PAD : N, K, bits);
}

/* words_outer: as bits_pack. planes_outer: 8-column panels [panel][word][bit][column], zero past column N. */
void bits_pack_weights(const uint8_t *W, int N, int K, int bits, int layout, uint64_t *dst) {
  int kw = (K + 63) / 64, panels = (N + BS_PANEL_PAD - 1) / BS_PANEL_PAD * BS_PANEL_PAD / 8;
  uint64_t *rows;
  if (layout != LAYOUT_PLANES_OUTER) {
    bits_pack(W, N, K, bits, layout, dst);
    return;
  }
  rows = xalloc(sizeof(uint64_t) * bits_packed_words(N, K, bits));
  bits_pack(W, N, K, bits, LAYOUT_PLANES_OUTER, rows);
  for (int p = 0; p < panels; p++)
    for (int w = 0; w < kw; w++)
      for (int b = 0; b < bits; b++)
        for (int l = 0; l < 8; l++) {
          int j = 8 * p + l;
          dst[(((size_t)p * kw + w) * bits + b) * 8 + l] = j < N ? rows[((size_t)j * bits + b) * kw + w] : 0;
        }
  free(rows);
}

/* C[M][N] = sum over bit planes of popcount(A_i AND W_j) << (i + j). planes_outer runs the path's register-blocked
   micro-kernel over column blocks of tn (one thread each); words_outer is the plain per-element loop. */
void gemm_bitserial(int M, int N, int K, const uint64_t *Ap, int a_bits, const uint64_t *Wp, int w_bits, int layout,
                    int32_t *C, int tn, int threads, const popcount_impl *pc) {
  int kw = (K + 63) / 64;
  if (layout == LAYOUT_PLANES_OUTER) {
    size_t lda = (size_t)a_bits * kw, panel_words = (size_t)kw * w_bits * 8;
    int tc = pc->cols, nblocks;
    tn = (tn + tc - 1) / tc * tc;
    nblocks = (N + tn - 1) / tn;
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
#endif
    for (int jb = 0; jb < nblocks; jb++) {
      int j1 = jb * tn + tn < N ? jb * tn + tn : N;
      for (int i = 0; i < M; i += pc->rows)
        for (int j0 = jb * tn; j0 < j1; j0 += tc)
          pc->micro(kw, a_bits, w_bits, Ap + (size_t)i * lda, lda, M - i < pc->rows ? M - i : pc->rows,
                    Wp + (size_t)(j0 / 8) * panel_words + j0 % 8, panel_words, C + (size_t)i * N + j0, N,
                    N - j0 < tc ? N - j0 : tc);
    }
    (void)threads;
    return;
  }
  for (int jb = 0; jb < N; jb += tn) {
    int je = N - jb < tn ? N : jb + tn;
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
#endif
    for (int i = 0; i < M; i++) {
      for (int j = jb; j < je; j++) {
        uint64_t acc = 0;
        for (int w = 0; w < kw; w++) {
          const uint64_t *av = Ap + ((size_t)i * kw + w) * a_bits, *wv = Wp + ((size_t)j * kw + w) * w_bits;
          for (int a = 0; a < a_bits; a++)
            for (int b = 0; b < w_bits; b++) acc += popcount64(av[a] & wv[b]) << (a + b);
        }
        C[(size_t)i * N + j] = (int32_t)acc;
      }
    }
  }
  (void)threads;
}
