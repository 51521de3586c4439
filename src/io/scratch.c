/*
 * scratch.c — scratch files beside their target (see scratch.h).
 *
 * The lock is flock(2), held on a descriptor of the builder's own, so it
 * cannot be confused with the fcntl(2) byte-range locks SQLite takes on
 * the same file, and dies with its process however that process ends.
 */
#include "config.h"

#include "io/scratch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/common.h"
#include "util/log.h"

/* Is name BASE.tmp-PID or BASE.tmp-PID-journal?  *pid gets PID. */
static bool scratch_name(const char *name, const char *base, long *pid)
{
	size_t n = strlen(base);
	if (strncmp(name, base, n) || strncmp(name + n, ".tmp-", 5))
		return false;
	const char *p = name + n + 5;
	char *end;
	if (*p < '1' || *p > '9')
		return false;
	errno = 0;
	*pid = strtol(p, &end, 10);
	if (errno || *pid <= 0)
		return false;
	return !*end || !strcmp(end, "-journal");
}

size_t scratch_sweep(const char *target)
{
	char *copy = xstrdup(target);
	char *slash = strrchr(copy, '/');
	const char *dir = slash ? (slash == copy ? "/" : copy) : ".";
	const char *base = slash ? slash + 1 : copy;
	if (slash)
		*slash = '\0';
	size_t removed = 0;
	DIR *d = *base ? opendir(dir) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		long pid;
		if (!scratch_name(e->d_name, base, &pid) || pid == (long)getpid())
			continue;
		if ((pid_t)pid != pid || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* alive, or not ours to judge */
		struct buf path = BUF_INIT;
		buf_printf(&path, "%s/%s", dir, e->d_name);
		int fd = open(path.data, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && unlink(path.data) == 0) {
			log_info("removed %s, left by process %ld, which is no longer running", path.data,
			         pid);
			removed++;
		}
		if (fd >= 0)
			close(fd);
		buf_free(&path);
	}
	if (d)
		closedir(d);
	free(copy);
	return removed;
}

int scratch_claim(const char *path)
{
	/* Known to the signal handlers before it exists, so that no moment
	 * has the file without them knowing. */
	scratch_on_signal(path);
	unlink(path); /* a leftover of an earlier process with our PID */
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		scratch_on_signal(NULL);
		errno = e;
		return -1;
	}
	return fd;
}

void scratch_release(int fd)
{
	scratch_on_signal(NULL);
	if (fd >= 0)
		close(fd);
}

/* --- signals ------------------------------------------------------------ */

static char signal_path[4096];
static volatile sig_atomic_t signal_path_set;
static const char *signal_program = "telemetra";

void scratch_on_signal(const char *path)
{
	signal_path_set = 0;
	if (path && strlen(path) < sizeof(signal_path)) {
		memcpy(signal_path, path, strlen(path) + 1);
		signal_path_set = 1;
	}
}

static void say(const char *s)
{
	ssize_t n = write(STDERR_FILENO, s, strlen(s));
	(void)n;
}

static void on_signal(int sig)
{
	say(signal_program);
	say(sig == SIGINT ? ": interrupted (SIGINT)" : ": stopped (SIGTERM)");
	if (signal_path_set) {
		unlink(signal_path);
		say("; the unfinished output was removed and the previous one is untouched");
	}
	say("\n");
	signal(sig, SIG_DFL);
	raise(sig);
}

void scratch_signals_install(const char *program)
{
	signal_program = program;
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
