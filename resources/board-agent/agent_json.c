/* Benchside board agent: a tiny reader for the flat JSON argument object and a writer for the one-object answer.
   Values may be strings, numbers, booleans, null or arrays of numbers; nothing nests deeper. */
#include "agent.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 64
#define MAX_KEY 48
#define MAX_ARR 4096

typedef struct {
  char key[MAX_KEY];
  jv_kind kind;
  char *str;
  double num;
  double *arr;
  int len;
  int used;
} arg_entry;

static arg_entry g_args[MAX_ARGS];
static int g_nargs;
char g_error_context[128];

static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return p;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Parses a JSON string at p (pointing at the opening quote); returns the end or NULL. */
static const char *parse_string(const char *p, char *out, size_t cap) {
  size_t n = 0;
  if (*p != '"') return NULL;
  p++;
  while (*p && *p != '"') {
    char c = *p++;
    if ((unsigned char)c < 0x20) return NULL;
    if (c == '\\') {
      char e = *p++;
      switch (e) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
          int v = 0;
          for (int i = 0; i < 4; i++) {
            int h = hexval(p[i]);
            if (h < 0) return NULL;
            v = v * 16 + h;
          }
          p += 4;
          /* Arguments are ASCII names and shapes; anything else becomes '?'. */
          c = (v < 0x80) ? (char)v : '?';
          break;
        }
        default: return NULL;
      }
    }
    if (n + 1 >= cap) return NULL;
    out[n++] = c;
  }
  if (*p != '"') return NULL;
  out[n] = 0;
  return p + 1;
}

static const char *parse_number(const char *p, double *out) {
  char *end;
  if (!(*p == '-' || isdigit((unsigned char)*p))) return NULL;
  *out = strtod(p, &end);
  if (end == p || !isfinite(*out)) return NULL;
  return end;
}

int args_parse(const char *text, char *err, size_t errlen) {
  const char *p = skip_ws(text);
  g_nargs = 0;
  if (*p != '{') {
    snprintf(err, errlen, "the argument must be one JSON object, starting with '{'");
    return 0;
  }
  p = skip_ws(p + 1);
  if (*p == '}') return *skip_ws(p + 1) == 0 ? 1 : (snprintf(err, errlen, "text after the closing '}'"), 0);
  for (;;) {
    arg_entry *e;
    if (g_nargs >= MAX_ARGS) {
      snprintf(err, errlen, "more than %d arguments", MAX_ARGS);
      return 0;
    }
    e = &g_args[g_nargs];
    memset(e, 0, sizeof *e);
    p = parse_string(p, e->key, sizeof e->key);
    if (!p) {
      snprintf(err, errlen, "expected a quoted key of at most %d characters", MAX_KEY - 1);
      return 0;
    }
    for (int i = 0; i < g_nargs; i++) {
      if (strcmp(g_args[i].key, e->key) == 0) {
        snprintf(err, errlen, "argument '%s' appears twice", e->key);
        return 0;
      }
    }
    p = skip_ws(p);
    if (*p != ':') {
      snprintf(err, errlen, "expected ':' after key '%s'", e->key);
      return 0;
    }
    p = skip_ws(p + 1);
    if (*p == '"') {
      size_t cap = strlen(p) + 1;
      e->kind = JV_STR;
      e->str = xalloc(cap);
      p = parse_string(p, e->str, cap);
    } else if (strncmp(p, "true", 4) == 0) {
      e->kind = JV_BOOL, e->num = 1, p += 4;
    } else if (strncmp(p, "false", 5) == 0) {
      e->kind = JV_BOOL, e->num = 0, p += 5;
    } else if (strncmp(p, "null", 4) == 0) {
      e->kind = JV_NULL, p += 4;
    } else if (*p == '[') {
      e->kind = JV_ARR;
      e->arr = xalloc(sizeof(double) * MAX_ARR);
      p = skip_ws(p + 1);
      if (*p == ']') {
        p++;
      } else {
        for (;;) {
          if (e->len >= MAX_ARR) {
            snprintf(err, errlen, "array '%s' has more than %d values", e->key, MAX_ARR);
            return 0;
          }
          p = parse_number(p, &e->arr[e->len]);
          if (!p) break;
          e->len++;
          p = skip_ws(p);
          if (*p == ',') {
            p = skip_ws(p + 1);
            continue;
          }
          if (*p == ']') {
            p++;
            break;
          }
          p = NULL;
          break;
        }
      }
    } else {
      e->kind = JV_NUM;
      p = parse_number(p, &e->num);
    }
    if (!p) {
      snprintf(err, errlen, "the value of '%s' is not a string, finite number, boolean, null or array of numbers", e->key);
      return 0;
    }
    g_nargs++;
    p = skip_ws(p);
    if (*p == ',') {
      p = skip_ws(p + 1);
      continue;
    }
    if (*p == '}') {
      if (*skip_ws(p + 1) != 0) {
        snprintf(err, errlen, "text after the closing '}'");
        return 0;
      }
      return 1;
    }
    snprintf(err, errlen, "expected ',' or '}' after the value of '%s'", e->key);
    return 0;
  }
}

static arg_entry *find(const char *key) {
  for (int i = 0; i < g_nargs; i++) {
    if (strcmp(g_args[i].key, key) == 0) {
      g_args[i].used = 1;
      return g_args[i].kind == JV_NULL ? NULL : &g_args[i];
    }
  }
  return NULL;
}

int args_has(const char *key) { return find(key) != NULL; }

const char *arg_str(const char *key, const char *fallback) {
  arg_entry *e = find(key);
  if (!e) return fallback;
  if (e->kind != JV_STR) die("argument '%s' must be a string", key);
  return e->str;
}

long long arg_int(const char *key, long long fallback, long long min, long long max) {
  arg_entry *e = find(key);
  if (!e) return fallback;
  if (e->kind != JV_NUM || e->num != floor(e->num) || e->num < (double)min || e->num > (double)max)
    die("argument '%s' must be an integer from %lld to %lld", key, min, max);
  return (long long)e->num;
}

double arg_num(const char *key, double fallback, double min, double max) {
  arg_entry *e = find(key);
  if (!e) return fallback;
  if (e->kind != JV_NUM || e->num < min || e->num > max) die("argument '%s' must be a number from %g to %g", key, min, max);
  return e->num;
}

int arg_bool(const char *key, int fallback) {
  arg_entry *e = find(key);
  if (!e) return fallback;
  if (e->kind != JV_BOOL) die("argument '%s' must be true or false", key);
  return (int)e->num;
}

int arg_arr(const char *key, const double **values) {
  arg_entry *e = find(key);
  *values = NULL;
  if (!e) return 0;
  if (e->kind != JV_ARR) die("argument '%s' must be an array of numbers", key);
  *values = e->arr;
  return e->len;
}

void args_reject_unused(const char *op) {
  for (int i = 0; i < g_nargs; i++) {
    if (!g_args[i].used) die("operation '%s' does not take the argument '%s'", op, g_args[i].key);
  }
}

/* ---- writer ---- */
static char *g_out;
static size_t g_len, g_cap;
static int g_first[64];
static int g_depth;
static int g_after_key;

static void put(const char *s, size_t n) {
  if (g_len + n + 1 > g_cap) {
    size_t cap = g_cap ? g_cap * 2 : 4096;
    while (cap < g_len + n + 1) cap *= 2;
    g_out = realloc(g_out, cap);
    if (!g_out) {
      fputs("{\"ok\":false,\"error\":\"out of memory while writing the answer\"}\n", stdout);
      exit(1);
    }
    g_cap = cap;
  }
  memcpy(g_out + g_len, s, n);
  g_len += n;
  g_out[g_len] = 0;
}
static void puts_(const char *s) { put(s, strlen(s)); }

static void comma(void) {
  if (g_after_key) {
    g_after_key = 0;
    return;
  }
  if (g_depth > 0) {
    if (!g_first[g_depth]) put(",", 1);
    g_first[g_depth] = 0;
  }
}

void jw_begin(void) {
  g_len = 0, g_depth = 0, g_after_key = 0;
  jw_obj_begin();
}

static void put_escaped(const char *s) {
  put("\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    char buf[8];
    if (c == '"' || c == '\\') {
      buf[0] = '\\', buf[1] = (char)c;
      put(buf, 2);
    } else if (c < 0x20 || c >= 0x7f) {
      snprintf(buf, sizeof buf, "\\u%04x", c);
      puts_(buf);
    } else {
      put((const char *)&c, 1);
    }
  }
  put("\"", 1);
}

void jw_key(const char *key) {
  comma();
  put_escaped(key);
  put(":", 1);
  g_after_key = 1;
}
void jw_str(const char *value) {
  comma();
  put_escaped(value);
}
void jw_num(double value) {
  char buf[40];
  comma();
  if (!isfinite(value)) {
    puts_("null");
    return;
  }
  snprintf(buf, sizeof buf, "%.9g", value);
  puts_(buf);
}
void jw_int(long long value) {
  char buf[32];
  comma();
  snprintf(buf, sizeof buf, "%lld", value);
  puts_(buf);
}
void jw_bool(int value) {
  comma();
  puts_(value ? "true" : "false");
}
void jw_obj_begin(void) {
  comma();
  put("{", 1);
  g_first[++g_depth] = 1;
}
void jw_obj_end(void) {
  put("}", 1);
  g_depth--;
}
void jw_arr_begin(void) {
  comma();
  put("[", 1);
  g_first[++g_depth] = 1;
}
void jw_arr_end(void) {
  put("]", 1);
  g_depth--;
}
void jw_kstr(const char *key, const char *value) { jw_key(key), jw_str(value); }
void jw_knum(const char *key, double value) { jw_key(key), jw_num(value); }
void jw_kint(const char *key, long long value) { jw_key(key), jw_int(value); }
void jw_kbool(const char *key, int value) { jw_key(key), jw_bool(value); }

const char *jw_finish(void) {
  while (g_depth > 0) jw_obj_end();
  return g_out;
}

void die(const char *fmt, ...) {
  char msg[1024];
  size_t n;
  va_list ap;
  n = (size_t)snprintf(msg, sizeof msg, "%s", g_error_context);
  va_start(ap, fmt);
  if (n < sizeof msg) vsnprintf(msg + n, sizeof msg - n, fmt, ap);
  va_end(ap);
  jw_begin();
  jw_kbool("ok", 0);
  jw_kstr("error", msg);
  fputs(jw_finish(), stdout);
  fputs("\n", stdout);
  fflush(stdout);
  exit(1);
}
