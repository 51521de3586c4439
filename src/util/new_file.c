/*
 * new_file.c — files built beside their target and renamed over it (see
 * new_file.h).  mkstemp() gives an unpredictable name that no other run
 * can be using; its private mode is widened to what open(2) would have
 * given a new file under the umask, since a page or an event log is as
 * readable as any file the user writes.
 */
#include "config.h"

#include "util/new_file.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool file_put_in_place(const char *tmp, const char *path, struct error *err)
{
	int fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		error_set(err, "cannot put %s in place of %s: %s", tmp, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		error_set(err, "cannot put %s in place of %s: %s", tmp, path, strerror(errno));
		return false;
	}
	return true;
}

bool new_file_possible(const char *path, struct error *err)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		error_set(err, "cannot write %s: %s", path, strerror(EISDIR));
		return false;
	}
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	const char *d = slash ? (slash == dir ? "/" : dir) : ".";
	bool ok = access(d, W_OK | X_OK) == 0;
	if (!ok)
		error_set(err, "cannot write %s: directory %s: %s", path, d, strerror(errno));
	free(dir);
	return ok;
}

bool new_file_create(struct new_file *n, const char *path, struct error *err)
{
	struct stat st;
	n->in_place = lstat(path, &st) == 0 && !S_ISREG(st.st_mode);
	if (n->in_place) {
		n->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (n->fd < 0) {
			error_set(err, "cannot create %s: %s", path, strerror(errno));
			n->path = n->tmp = NULL;
			return false;
		}
		n->path = xstrdup(path);
		n->tmp = xstrdup(path);
		return true;
	}
	size_t len = strlen(path) + sizeof(".tmp-XXXXXX");
	n->path = xstrdup(path);
	n->tmp = xmalloc(len);
	snprintf(n->tmp, len, "%s.tmp-XXXXXX", path);
	n->fd = mkstemp(n->tmp);
	if (n->fd < 0) {
		error_set(err, "cannot create %s: %s", path, strerror(errno));
		free(n->path);
		free(n->tmp);
		n->path = n->tmp = NULL;
		return false;
	}
	mode_t mask = umask(0);
	umask(mask);
	(void)fchmod(n->fd, 0666 & ~mask); /* best effort: the content is what matters */
	return true;
}

static void release(struct new_file *n)
{
	free(n->path);
	free(n->tmp);
	n->path = n->tmp = NULL;
	n->fd = -1;
}

bool new_file_commit(struct new_file *n, struct error *err)
{
	bool ok = true;
	if (n->fd >= 0 && close(n->fd) != 0) {
		error_set(err, "cannot write %s: %s", n->path, strerror(errno));
		ok = false;
	}
	n->fd = -1;
	if (ok && !n->in_place)
		ok = file_put_in_place(n->tmp, n->path, err);
	if (!ok && !n->in_place)
		unlink(n->tmp);
	release(n);
	return ok;
}

void new_file_discard(struct new_file *n)
{
	if (!n->tmp)
		return;
	if (n->fd >= 0)
		close(n->fd);
	if (!n->in_place)
		unlink(n->tmp);
	release(n);
}

const char *new_file_input_at(const char *path, const char *const *inputs, size_t n)
{
	struct stat out;
	if (!path || !strcmp(path, "-") || stat(path, &out) != 0 || !S_ISREG(out.st_mode))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct stat in;
		if (!inputs[i])
			continue;
		bool std_in = !strcmp(inputs[i], "-");
		if ((std_in ? fstat(STDIN_FILENO, &in) : stat(inputs[i], &in)) == 0 &&
		    in.st_dev == out.st_dev && in.st_ino == out.st_ino)
			return inputs[i];
	}
	return NULL;
}

void new_file_refuse_input(const char *path, const char *const *inputs, size_t n)
{
	const char *in = new_file_input_at(path, inputs, n);
	if (in)
		die_usage("output %s is also input %s: the run would destroy what it reads; give "
		          "another output",
		          path, strcmp(in, "-") ? in : "- (standard input)");
}

void new_file_refuse_replace(const char *path, const char *what, const char *why, const char *cmd,
                             const char *verb, bool force)
{
	struct stat st;
	if (force || !path || !strcmp(path, "-") || stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size == 0)
		return;
	die_usage("%s %s exists%s%s, so %s will not %s it; give another %s, or --force to %s it", what,
	          path, why ? " and " : "", why ? why : "", cmd, verb, what, verb);
}
