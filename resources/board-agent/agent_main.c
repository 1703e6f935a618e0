/* Benchside board agent entry: reads one JSON argument object (argv[1], or stdin when argv[1] is absent or "-"),
   runs the operation named by "op" and prints one JSON object on stdout. Exit status 0 when "ok" is true, else 1. */
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT (1 << 20)

static char *read_stdin(void) {
  char *buf = xalloc(MAX_INPUT + 1);
  size_t n = 0, got;
  while ((got = fread(buf + n, 1, MAX_INPUT - n, stdin)) > 0) {
    n += got;
    if (n == MAX_INPUT) die("the argument on stdin is longer than %d bytes", MAX_INPUT);
  }
  buf[n] = 0;
  return buf;
}

int main(int argc, char **argv) {
  static const struct {
    const char *name;
    void (*run)(void);
  } ops[] = {{"info", op_info},           {"peak_flops", op_peak_flops},
             {"bandwidth", op_bandwidth}, {"gemm_f32", op_gemm_f32},
             {"gemm_i8", op_gemm_i8},     {"gemm_bitserial", op_gemm_bitserial},
             {"conv2d", op_conv2d},       {"network", op_network},
             {"sleep", op_sleep}};
  char err[256];
  const char *input = (argc > 1 && strcmp(argv[1], "-") != 0) ? argv[1] : read_stdin();
  const char *op;
  if (!args_parse(input, err, sizeof err)) die("the argument is not valid JSON: %s", err);
  op = arg_str("op", NULL);
  if (!op) die("the argument has no \"op\"; the operations are info, peak_flops, bandwidth, gemm_f32, gemm_i8, gemm_bitserial, conv2d, network");
  jw_begin();
  jw_kbool("ok", 1);
  jw_kstr("op", op);
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    if (strcmp(ops[i].name, op) == 0) {
      ops[i].run();
      fputs(jw_finish(), stdout);
      fputs("\n", stdout);
      return 0;
    }
  }
  die("unknown operation '%s'; the operations are info, peak_flops, bandwidth, gemm_f32, gemm_i8, gemm_bitserial, conv2d, network", op);
}
