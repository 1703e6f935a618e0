/* Benchside's PTY pair for the emulated demo board: two pseudo-terminals whose master sides are relayed to each other,
 * so two programs talk through them as over a null-modem cable. Built on first use (src-main/hardware/emulator/pty-pair.ts).
 *
 * Prints "PTYS <first slave path> <second slave path>" once both are ready, then relays until stdin closes (the
 * launcher is gone) or a signal ends it. A line "flush" on stdin discards what waits for the second slave (a rebooted
 * board starts with an empty receive buffer) and is answered with "flushed".
 */
#define _XOPEN_SOURCE 600
#define _DEFAULT_SOURCE
#define _DARWIN_C_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <termios.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define BUFFER_SIZE 65536

struct side {
  int master;
  /* Held open for the pair's whole life: the slave keeps its raw settings when its user closes and reopens it, and
   * the master never sees a hang-up (which would make select() report it ready forever). */
  int slave;
  char path[256];
};

struct direction {
  unsigned char data[BUFFER_SIZE];
  size_t start;
  size_t end;
};

static void die(const char *what) {
  fprintf(stderr, "pty-pair: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void make_raw(int fd) {
  struct termios t;
  if (tcgetattr(fd, &t) != 0) die("tcgetattr");
  t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF);
  t.c_oflag &= ~(tcflag_t)OPOST;
  t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
  t.c_cflag |= CS8 | CREAD | CLOCAL;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  if (tcsetattr(fd, TCSANOW, &t) != 0) die("tcsetattr");
}

static void open_side(struct side *s) {
  s->master = posix_openpt(O_RDWR | O_NOCTTY);
  if (s->master < 0) die("posix_openpt");
  if (grantpt(s->master) != 0) die("grantpt");
  if (unlockpt(s->master) != 0) die("unlockpt");
  const char *name = ptsname(s->master);
  if (name == NULL) die("ptsname");
  if (strlen(name) >= sizeof s->path) {
    fprintf(stderr, "pty-pair: the slave path %s is too long\n", name);
    exit(1);
  }
  strcpy(s->path, name);
  s->slave = open(s->path, O_RDWR | O_NOCTTY);
  if (s->slave < 0) die(s->path);
  make_raw(s->slave);
  int flags = fcntl(s->master, F_GETFL);
  if (flags < 0 || fcntl(s->master, F_SETFL, flags | O_NONBLOCK) != 0) die("fcntl");
}

static int would_block(void) {
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Reads what the master has into the direction's buffer (while there is room). */
static void take(int master, struct direction *d) {
  if (d->start == d->end) d->start = d->end = 0;
  if (d->end == BUFFER_SIZE) return;
  ssize_t n = read(master, d->data + d->end, BUFFER_SIZE - d->end);
  if (n > 0) d->end += (size_t)n;
  else if (n < 0 && !would_block()) die("read");
}

static void give(int master, struct direction *d) {
  if (d->start == d->end) return;
  ssize_t n = write(master, d->data + d->start, d->end - d->start);
  if (n > 0) d->start += (size_t)n;
  else if (n < 0 && !would_block()) die("write");
}

/* Commands from the launcher, one per line; returns 0 when stdin closed. */
static int command(struct side *second, struct direction *to_second) {
  static char line[64];
  static size_t used = 0;
  ssize_t n = read(STDIN_FILENO, line + used, sizeof line - 1 - used);
  if (n == 0) return 0;
  if (n < 0) return would_block() ? 1 : 0;
  used += (size_t)n;
  char *newline;
  while ((newline = memchr(line, '\n', used)) != NULL) {
    *newline = '\0';
    if (strcmp(line, "flush") == 0) {
      to_second->start = to_second->end = 0;
      tcflush(second->slave, TCIFLUSH);
      printf("flushed\n");
      fflush(stdout);
    }
    size_t rest = used - (size_t)(newline + 1 - line);
    memmove(line, newline + 1, rest);
    used = rest;
  }
  if (used == sizeof line - 1) used = 0;
  return 1;
}

int main(void) {
#ifdef __linux__
  prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
  signal(SIGPIPE, SIG_IGN);
  static struct side first, second;
  static struct direction to_first, to_second;
  open_side(&first);
  open_side(&second);
  printf("PTYS %s %s\n", first.path, second.path);
  fflush(stdout);

  int highest = first.master > second.master ? first.master : second.master;
  for (;;) {
    fd_set readable, writable;
    FD_ZERO(&readable);
    FD_ZERO(&writable);
    FD_SET(STDIN_FILENO, &readable);
    if (to_second.end < BUFFER_SIZE || to_second.start == to_second.end) FD_SET(first.master, &readable);
    if (to_first.end < BUFFER_SIZE || to_first.start == to_first.end) FD_SET(second.master, &readable);
    if (to_first.start < to_first.end) FD_SET(first.master, &writable);
    if (to_second.start < to_second.end) FD_SET(second.master, &writable);
    if (select(highest + 1, &readable, &writable, NULL, NULL) < 0) {
      if (errno == EINTR) continue;
      die("select");
    }
    if (FD_ISSET(STDIN_FILENO, &readable) && !command(&second, &to_second)) return 0;
    if (FD_ISSET(first.master, &readable)) take(first.master, &to_second);
    if (FD_ISSET(second.master, &readable)) take(second.master, &to_first);
    if (FD_ISSET(first.master, &writable)) give(first.master, &to_first);
    if (FD_ISSET(second.master, &writable)) give(second.master, &to_second);
  }
}
