/*
 * lockfile.c: one instance per run dir: an flock()ed <name>.lock holding
 * the owner's pid, so the second instance can say who holds it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lockfile.h"
#include "log.h"
#include "util.h"

int
lockfile_take(const char *run_dir, const char *name)
{
	char path[4096], buf[32];
	ssize_t n;
	int fd;

	if (xsnprintf(path, sizeof(path), "%s/%s.lock", run_dir, name) < 0) {
		log_warnx("unable to lock %s: path too long", run_dir);
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_warn("unable to open %s", path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK) {
			n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			log_warnx("unable to lock %s: another %s runs "
			          "(pid %s)",
			          path, name, buf[0] ? buf : "unknown");
		} else
			log_warn("unable to lock %s", path);
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		log_warn("unable to write pid to %s", path);
	return fd;
}
