/*
 * quanta-spawn: starts the shell commands of quanta's command tasks, so that the CLI's Node process
 * (large: a fork of it costs more than most commands) never forks. One helper serves every slot of a
 * run; src/exec/helper-shell-spawner.ts starts it and speaks to it. Built by `npm run build`
 * (scripts/build-spawner.mjs) into dist/exec/quanta-spawn; without it, Node spawns the commands.
 *
 * Protocol, version 4. The helper first writes the line "quanta-spawn 4\n". Then it reads requests
 * from stdin, fields ended by NUL bytes (so neither a path nor a command may hold one):
 *
 *     r<id> NUL <pool> NUL <working directory> NUL <command> NUL
 *                          run `/bin/sh -c <command>` there, now
 *     q<id> NUL <pool> NUL <working directory> NUL <command> NUL
 *                          the same, queued: started in the place of the next run of the same pool
 *                          that ends (the oldest queued run of that pool first)
 *     s<id> NUL                                            start queued run <id> now
 *     k<id> NUL                                            SIGKILL the process group of run <id>
 *
 * and writes one reply per run to stdout, once the run has ended:
 *
 *     <id> <how> <value> <dropped> <length> <next> <maxrss> LF, then <length> bytes of log
 *
 * <pool> names the set of `-j` slots the run holds one of (`-`: none). The CLI holds a slot for each
 * run it asks to start now (r, s); a queued run takes over the slot of a run of its pool that ended,
 * and <next> names it (`-`: none), so the CLI knows that it has started and holds that slot. The next command thus starts the moment one ends, without a trip
 * through the CLI. An s for a run already started or ended is ignored (the CLI may have given it a
 * slot of its own meanwhile: it then has one slot too many, and gives one back).
 *
 * how: `x` the shell exited with code <value>; `s` it was killed by signal <value>; `e` it could not be
 * started (<value> is errno; the log says why, e.g. `No such file or directory (/the/directory)`).
 * dropped: 1 when the log is only the last 1 MiB of the output. maxrss: the peak resident memory of
 * the shell and of the descendants it waited for, in KiB (wait4's ru_maxrss: the largest of them,
 * not their sum; 0 for a run that never started). A queued run killed before it started is dropped,
 * and its reply says `s 9` with an empty log.
 *
 * Each shell runs in a new session (its own process group), with stdin from /dev/null and stdout and
 * stderr on one pipe that the helper reads (so the log interleaves them as written). When the shell
 * exits, the helper kills its process group, so that processes left in the background end too; a run
 * has ended when the shell has been reaped and every process holding the pipe has closed it, or
 * ESCAPED_GRACE_MS after the shell was reaped: a process that started a session of its own escapes
 * the kill and may hold the pipe for ever, so the helper then stops reading it, and ends the log with
 * ESCAPED_NOTE (the same words as src/exec/shell-spawner.ts). A kill
 * of a run that has ended already is ignored. At the end of stdin (the CLI has gone), the helper drops
 * the queued runs (replying for each as killed by SIGKILL), kills every process group it started, and exits once those runs have ended. It ignores the signals that
 * end the CLI (SIGINT, SIGTERM, SIGHUP, SIGQUIT), so as to outlive it long enough to do that.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOG_CAP (1 << 20)
#define READ_CHUNK 65536
#define ESCAPED_GRACE_MS 500
#define ESCAPED_NOTE "[quanta: a process the command started in a session of its own still held its output; stopped reading it]\n"

extern char **environ;

struct run {
  char *id;     /* as the request spelled it */
  char *pool;   /* whose slot it holds; "-" for none */
  pid_t pid;    /* the shell, also its process group */
  int out;      /* read end of its output pipe; -1 after end of file */
  int reaped;   /* the shell has exited */
  long long reaped_ms; /* when (CLOCK_MONOTONIC) */
  int status;   /* its wait status, once reaped */
  long maxrss_kb; /* its peak resident memory (and its waited-for descendants'), once reaped */
  char *log;    /* output so far: at most 2 * LOG_CAP bytes, the last LOG_CAP of them kept at the end */
  size_t len, cap;
  int dropped;
};

static struct run *runs;
static size_t nruns, runs_cap;

/* Runs asked for with q and not started yet, oldest first. */
struct queued {
  char *id, *pool, *cwd, *command;
};
static struct queued *queue;
static size_t nqueued, queue_cap;
static int wake[2]; /* SIGCHLD writes a byte here, so poll() wakes up */

/*
 * Signals the helper ignores, so that a Ctrl-C or a hangup meant for the CLI's process group ends the
 * CLI only: the helper then sees the end of its input and kills every run (ignoring them is not
 * passed on: each shell starts with them at their defaults).
 */
static const int IGNORED[] = {SIGPIPE, SIGINT, SIGQUIT, SIGHUP, SIGTERM};
#define NIGNORED (sizeof IGNORED / sizeof IGNORED[0])

/* The CLI sees the helper exit and fails the runs it was waiting for; stderr is for a person's eyes. */
static void die(const char *what) {
  fprintf(stderr, "quanta-spawn: %s\n", what);
  exit(2);
}

static void *grow(void *p, size_t size) {
  void *q = realloc(p, size);
  if (q == NULL) die("out of memory");
  return q;
}

static void set_flags(int fd, int fd_flags, int fl_flags) {
  if (fd_flags) fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | fd_flags);
  if (fl_flags) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | fl_flags);
}

static int stdout_gone; /* the CLI stopped reading: replies go nowhere, runs are still seen to their end */

static void write_all(const char *p, size_t n) {
  while (n > 0 && !stdout_gone) {
    ssize_t w = write(1, p, n);
    if (w < 0) {
      if (errno != EINTR) stdout_gone = 1;
      continue;
    }
    p += w;
    n -= (size_t)w;
  }
}

/* `next`: the queued run started in this one's place, or NULL; `maxrss_kb`: 0 when it never ran. */
static void reply(const char *id, char how, int value, int dropped, const char *log, size_t len, const char *next, long maxrss_kb) {
  char head[256];
  int n = snprintf(head, sizeof head, "%s %c %d %d %zu %s %ld\n", id, how, value, dropped, len, next ? next : "-", maxrss_kb);
  if (n < 0 || (size_t)n >= sizeof head) die("run id too long");
  write_all(head, (size_t)n);
  write_all(log, len);
}

/* A run that could not start: `<strerror> (<what>)`, as its log. */
static void reply_error(const char *id, const char *what, int err) {
  char msg[4096];
  int n = snprintf(msg, sizeof msg, "%s (%s)", strerror(err), what);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof msg) n = sizeof msg - 1;
  reply(id, 'e', err, 0, msg, (size_t)n, NULL, 0);
}

static void on_sigchld(int sig) {
  int saved = errno;
  (void)sig;
  (void)!write(wake[1], "", 1);
  errno = saved;
}

/* Kills the run's process group; before the child's setsid() there is no group yet, only the child. */
static void kill_run(struct run *r) {
  if (kill(-r->pid, SIGKILL) != 0 && !r->reaped) kill(r->pid, SIGKILL);
}

#if defined(POSIX_SPAWN_SETSID) && !defined(QUANTA_SPAWN_FORK) && \
    (defined(__APPLE__) || (defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 29)))
/*
 * posix_spawn, where it can give the child a new session and a working directory: the C library
 * starts the child without copying the helper's memory, which is cheaper than fork() and exec().
 * Returns 0, or the errno of what failed (in the child too: entering the directory, running the shell).
 */
static int spawn_shell(const char *cwd, const char *command, int out, pid_t *pid) {
  char *argv[] = {"/bin/sh", "-c", (char *)command, NULL};
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  sigset_t none, restored;
  int err;
  sigemptyset(&none);
  sigemptyset(&restored);
  sigaddset(&restored, SIGCHLD);
  for (size_t i = 0; i < NIGNORED; i++) sigaddset(&restored, IGNORED[i]);
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out, 1);
  posix_spawn_file_actions_adddup2(&actions, out, 2);
  posix_spawn_file_actions_addchdir_np(&actions, cwd);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &restored);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  err = posix_spawn(pid, "/bin/sh", &actions, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  return err;
}
#else
/*
 * fork() and exec(), elsewhere (and when built with -DQUANTA_SPAWN_FORK, which the tests do). The
 * helper enters the directory itself around the fork, so that failing to is reported as by posix_spawn;
 * a shell that cannot be run says so on its output and exits with 127.
 */
static int spawn_shell(const char *cwd, const char *command, int out, pid_t *pid) {
  int home = open(".", O_RDONLY | O_CLOEXEC);
  int err = 0;
  if (home < 0) return errno;
  if (chdir(cwd) != 0) {
    err = errno;
    close(home);
    return err;
  }
  *pid = fork();
  if (*pid == 0) {
    sigset_t none;
    int null = open("/dev/null", O_RDONLY);
    setsid();
    signal(SIGCHLD, SIG_DFL);
    for (size_t i = 0; i < NIGNORED; i++) signal(IGNORED[i], SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (null > 0) {
      dup2(null, 0);
      close(null);
    }
    dup2(out, 1);
    dup2(out, 2);
    execle("/bin/sh", "/bin/sh", "-c", command, (char *)NULL, environ);
    dprintf(2, "quanta-spawn: cannot run /bin/sh: %s\n", strerror(errno));
    _exit(127);
  }
  if (*pid < 0) err = errno;
  if (fchdir(home) != 0 && err == 0) err = errno;
  close(home);
  return err;
}
#endif

static char *copy(const char *text) {
  char *c = strdup(text);
  if (c == NULL) die("out of memory");
  return c;
}

/* Starts a run; 0, or the errno of what failed, `*what` saying what that was (for its log). */
static int start_run(const char *id, const char *pool, const char *cwd, const char *command, const char **what) {
  int fds[2], err;
  pid_t pid = 0;
  struct run *r;
  if (pipe(fds) != 0) {
    *what = "cannot make a pipe";
    return errno;
  }
  set_flags(fds[0], FD_CLOEXEC, O_NONBLOCK);
  set_flags(fds[1], FD_CLOEXEC, 0);
  err = spawn_shell(cwd, command, fds[1], &pid);
  close(fds[1]);
  if (err != 0) {
    close(fds[0]);
    *what = cwd;
    return err;
  }
  if (nruns == runs_cap) {
    runs_cap = runs_cap ? 2 * runs_cap : 8;
    runs = grow(runs, runs_cap * sizeof *runs);
  }
  r = &runs[nruns++];
  memset(r, 0, sizeof *r);
  r->id = copy(id);
  r->pool = copy(pool);
  r->pid = pid;
  r->out = fds[0];
  return 0;
}

/* Starts a run now, or replies why it could not start. */
static void start_or_fail(const char *id, const char *pool, const char *cwd, const char *command) {
  const char *what = NULL;
  int err = start_run(id, pool, cwd, command, &what);
  if (err != 0) reply_error(id, what, err);
}

static void enqueue(const char *id, const char *pool, const char *cwd, const char *command) {
  if (nqueued == queue_cap) {
    queue_cap = queue_cap ? 2 * queue_cap : 8;
    queue = grow(queue, queue_cap * sizeof *queue);
  }
  queue[nqueued++] = (struct queued){copy(id), copy(pool), copy(cwd), copy(command)};
}

/* Takes queued run `i` out of the queue (keeping the order of the others); the caller frees it. */
static struct queued dequeue(size_t i) {
  struct queued q = queue[i];
  memmove(&queue[i], &queue[i + 1], (nqueued - i - 1) * sizeof *queue);
  nqueued--;
  return q;
}

static void free_queued(struct queued *q) {
  free(q->id);
  free(q->pool);
  free(q->cwd);
  free(q->command);
}

/* The index of the oldest queued run of `pool`, or -1 (none for "-": such runs hold no slot). */
static long oldest_queued(const char *pool) {
  if (strcmp(pool, "-") == 0) return -1;
  for (size_t i = 0; i < nqueued; i++)
    if (strcmp(queue[i].pool, pool) == 0) return (long)i;
  return -1;
}

/* The index of queued run `id`, or -1. */
static long find_queued(const char *id) {
  for (size_t i = 0; i < nqueued; i++)
    if (strcmp(queue[i].id, id) == 0) return (long)i;
  return -1;
}

static struct run *find_run(const char *id) {
  for (size_t i = 0; i < nruns; i++)
    if (strcmp(runs[i].id, id) == 0) return &runs[i];
  return NULL;
}

/*
 * Replies for every run that has ended, and forgets it; the oldest queued run of its pool, if any,
 * starts in its place first, and the reply names it (a queued run that cannot start is replied for
 * right after).
 */
static void finish_ended(void) {
  size_t i = 0;
  while (i < nruns) {
    if (!runs[i].reaped || runs[i].out >= 0) {
      i++;
      continue;
    }
    struct run ended = runs[i];
    runs[i] = runs[--nruns];
    struct queued next = {0};
    const char *what = NULL;
    int err = 0;
    long q = oldest_queued(ended.pool);
    if (q >= 0) {
      next = dequeue((size_t)q);
      err = start_run(next.id, next.pool, next.cwd, next.command, &what);
    }
    size_t len = ended.len > LOG_CAP ? LOG_CAP : ended.len;
    int dropped = ended.dropped || ended.len > LOG_CAP;
    const char *log = ended.log ? ended.log + (ended.len - len) : "";
    if (WIFSIGNALED(ended.status)) reply(ended.id, 's', WTERMSIG(ended.status), dropped, log, len, next.id, ended.maxrss_kb);
    else reply(ended.id, 'x', WEXITSTATUS(ended.status), dropped, log, len, next.id, ended.maxrss_kb);
    if (err != 0) reply_error(next.id, what, err);
    free(ended.id);
    free(ended.pool);
    free(ended.log);
    free_queued(&next);
  }
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ru_maxrss in KiB: Linux counts it in KiB, macOS in bytes. */
static long maxrss_kb(const struct rusage *usage) {
#ifdef __APPLE__
  return usage->ru_maxrss / 1024;
#else
  return usage->ru_maxrss;
#endif
}

static void reap(void) {
  int status;
  pid_t pid;
  struct rusage usage;
  while ((pid = wait4(-1, &status, WNOHANG, &usage)) > 0) {
    for (size_t i = 0; i < nruns; i++) {
      if (runs[i].pid == pid && !runs[i].reaped) {
        runs[i].reaped = 1;
        runs[i].reaped_ms = now_ms();
        runs[i].status = status;
        runs[i].maxrss_kb = maxrss_kb(&usage);
        /* What the shell left in the background goes with it (and lets go of the pipe). */
        kill(-pid, SIGKILL);
        break;
      }
    }
  }
}

static void read_output(struct run *r) {
  for (;;) {
    if (r->cap - r->len < READ_CHUNK) {
      r->cap = r->len + 2 * READ_CHUNK;
      r->log = grow(r->log, r->cap);
    }
    ssize_t n = read(r->out, r->log + r->len, READ_CHUNK);
    if (n > 0) {
      r->len += (size_t)n;
      if (r->len > 2 * LOG_CAP) {
        memmove(r->log, r->log + r->len - LOG_CAP, LOG_CAP);
        r->len = LOG_CAP;
        r->dropped = 1;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    close(r->out); /* end of file, or an error that ends the log just the same */
    r->out = -1;
    return;
  }
}

/*
 * Stops reading the pipes that a process in another session has held open ESCAPED_GRACE_MS past the
 * shell's end (what it wrote until now is kept); returns the milliseconds until the next such
 * deadline, or -1 when there is none.
 */
static int give_up_escaped(void) {
  long long now = now_ms();
  int wait = -1;
  for (size_t i = 0; i < nruns; i++) {
    struct run *r = &runs[i];
    if (!r->reaped || r->out < 0) continue;
    long long left = r->reaped_ms + ESCAPED_GRACE_MS - now;
    if (left > 0) {
      if (wait < 0 || left < wait) wait = (int)left;
      continue;
    }
    read_output(r);
    if (r->out < 0) continue;
    close(r->out);
    r->out = -1;
    size_t note = sizeof ESCAPED_NOTE - 1;
    if (r->cap - r->len < note) {
      r->cap = r->len + note;
      r->log = grow(r->log, r->cap);
    }
    memcpy(r->log + r->len, ESCAPED_NOTE, note);
    r->len += note;
  }
  return wait;
}

/* Handles the complete requests at the start of buf; returns how many bytes they took. */
static size_t handle_requests(char *buf, size_t len) {
  size_t done = 0;
  for (;;) {
    char *p = buf + done, *end = buf + len;
    char *f1 = memchr(p, 0, (size_t)(end - p));
    if (f1 == NULL) return done;
    if (p[0] == 'k' || p[0] == 's') {
      long q = find_queued(p + 1);
      if (q >= 0) {
        struct queued taken = dequeue((size_t)q);
        if (p[0] == 's') start_or_fail(taken.id, taken.pool, taken.cwd, taken.command);
        else reply(taken.id, 's', SIGKILL, 0, "", 0, NULL, 0);
        free_queued(&taken);
      } else if (p[0] == 'k') {
        struct run *r = find_run(p + 1);
        if (r != NULL) kill_run(r);
      }
      done = (size_t)(f1 + 1 - buf);
      continue;
    }
    if (p[0] != 'r' && p[0] != 'q') die("bad request");
    char *f2 = memchr(f1 + 1, 0, (size_t)(end - f1 - 1));
    if (f2 == NULL) return done;
    char *f3 = memchr(f2 + 1, 0, (size_t)(end - f2 - 1));
    if (f3 == NULL) return done;
    char *f4 = memchr(f3 + 1, 0, (size_t)(end - f3 - 1));
    if (f4 == NULL) return done;
    if (p[0] == 'r') start_or_fail(p + 1, f1 + 1, f2 + 1, f3 + 1);
    else enqueue(p + 1, f1 + 1, f2 + 1, f3 + 1);
    done = (size_t)(f4 + 1 - buf);
  }
}

int main(void) {
  struct sigaction sa;
  struct pollfd *fds = NULL;
  size_t fds_cap = 0;
  char *in = NULL;
  size_t in_len = 0, in_cap = 0;
  int stdin_open = 1;

  if (pipe(wake) != 0) die("pipe");
  set_flags(wake[0], FD_CLOEXEC, O_NONBLOCK);
  set_flags(wake[1], FD_CLOEXEC, O_NONBLOCK);
  for (size_t i = 0; i < NIGNORED; i++) signal(IGNORED[i], SIG_IGN);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigchld;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGCHLD, &sa, NULL);
  write_all("quanta-spawn 4\n", 15);

  while (stdin_open || nruns > 0) {
    size_t n = 0;
    int timeout = give_up_escaped();
    finish_ended();
    if (!stdin_open && nruns == 0) break;
    if (fds_cap < nruns + 2) {
      fds_cap = 2 * (nruns + 2);
      fds = grow(fds, fds_cap * sizeof *fds);
    }
    fds[n++] = (struct pollfd){.fd = stdin_open ? 0 : -1, .events = POLLIN};
    fds[n++] = (struct pollfd){.fd = wake[0], .events = POLLIN};
    for (size_t i = 0; i < nruns; i++) fds[n++] = (struct pollfd){.fd = runs[i].out, .events = POLLIN};
    if (poll(fds, n, timeout) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    /* Output first: a run's pipe is read to its end before the run is reported. */
    for (size_t i = 0; i < nruns; i++)
      if (runs[i].out >= 0 && (fds[2 + i].revents & (POLLIN | POLLHUP | POLLERR))) read_output(&runs[i]);
    if (fds[1].revents & POLLIN) {
      char drain[64];
      while (read(wake[0], drain, sizeof drain) > 0) {
      }
      reap();
    }
    finish_ended();
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (in_cap - in_len < READ_CHUNK) {
        in_cap = in_len + 2 * READ_CHUNK;
        in = grow(in, in_cap);
      }
      ssize_t r = read(0, in + in_len, READ_CHUNK);
      if (r < 0 && errno != EINTR) die("stdin");
      if (r == 0) {
        /* The CLI has gone, or is going: end every run, and exit once they have ended. */
        stdin_open = 0;
        while (nqueued > 0) {
          struct queued dropped = dequeue(0);
          reply(dropped.id, 's', SIGKILL, 0, "", 0, NULL, 0);
          free_queued(&dropped);
        }
        for (size_t i = 0; i < nruns; i++) kill_run(&runs[i]);
      }
      if (r > 0) {
        in_len += (size_t)r;
        size_t used = handle_requests(in, in_len);
        memmove(in, in + used, in_len - used);
        in_len -= used;
      }
    }
  }
  return 0;
}
