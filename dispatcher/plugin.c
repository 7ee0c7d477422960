/*
 * plugin.c: checks, spawns, watches and ends one plugin process. nng is
 * not fork-safe, so posix_spawn; the job goes on stdin through a memfd,
 * so the secrets are in no argv, no environment and no file on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plugin.h"
#include "util.h"

static int plugin_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
plugin_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Owned by root or us, writable by neither group nor others. */
static int
secure(const struct stat *sb, const char *what, const char *path, char *err,
       size_t errlen)
{
	uid_t me = geteuid();

	if (sb->st_uid != 0 && sb->st_uid != me)
		return plugin_fail(err, errlen,
		                   "%s %s is owned by uid %u, not by root or "
		                   "uid %u: refused",
		                   what, path, (unsigned)sb->st_uid,
		                   (unsigned)me);
	if ((sb->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return plugin_fail(err, errlen,
		                   "%s %s is writable by group or others "
		                   "(mode %04o): refused",
		                   what, path, (unsigned)(sb->st_mode & 07777));
	return 0;
}

int
plugin_dir_check(const char *dir, char *err, size_t errlen)
{
	struct stat sb;

	if (stat(dir, &sb) == -1)
		return plugin_fail(err, errlen, "plugin directory %s: %s", dir,
		                   strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return plugin_fail(err, errlen,
		                   "plugin directory %s: not a directory", dir);
	return secure(&sb, "plugin directory", dir, err, errlen);
}

int
plugin_check(const char *dir, const char *kind, char *path, size_t pathlen,
             char *err, size_t errlen)
{
	char real[PATH_MAX], *slash;
	struct stat sb;

	if (kind == NULL || !source_kind_valid(kind))
		return plugin_fail(err, errlen,
		                   "invalid source_kind: must match "
		                   "^[a-z0-9][a-z0-9_-]{0,63}$");
	if (plugin_dir_check(dir, err, errlen) == -1)
		return -1;
	if (xsnprintf(path, pathlen, "%s/%s", dir, kind) == -1)
		return plugin_fail(err, errlen, "plugin path too long");
	if (lstat(path, &sb) == -1)
		return plugin_fail(err, errlen, "%s plugin %s: %s",
		                   errno == ENOENT ? "no" : "unable to use",
		                   path, strerror(errno));
	if (S_ISLNK(sb.st_mode)) {
		/* the link's target and the directory it is in must be as
		 * safe as the plugin directory itself */
		if (realpath(path, real) == NULL)
			return plugin_fail(err, errlen, "plugin %s: %s", path,
			                   strerror(errno));
		if (xsnprintf(path, pathlen, "%s", real) == -1)
			return plugin_fail(err, errlen, "plugin path too long");
		slash = strrchr(real, '/');
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (plugin_dir_check(real, err, errlen) == -1)
			return -1;
		if (stat(path, &sb) == -1)
			return plugin_fail(err, errlen, "plugin %s: %s", path,
			                   strerror(errno));
	}
	if (!S_ISREG(sb.st_mode))
		return plugin_fail(err, errlen, "plugin %s: not a regular file",
		                   path);
	if (secure(&sb, "plugin", path, err, errlen) == -1)
		return -1;
	if ((sb.st_mode & 0111) == 0 || access(path, X_OK) == -1)
		return plugin_fail(err, errlen, "plugin %s: not executable",
		                   path);
	return 0;
}

/* "NAME=value", malloc'd. */
static char *
env_var(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value != NULL ? value : "") + 2;
	char *s = xmalloc(n);

	snprintf(s, n, "%s=%s", name, value != NULL ? value : "");
	return s;
}

/* The job as a file of its own for stdin (memory only, never on disk). */
static int
stdin_file(const void *in, size_t len, char *err, size_t errlen)
{
	const char *p = in;
	ssize_t n;
	int fd;

	if ((fd = memfd_create("recon-plugin-stdin", MFD_CLOEXEC)) == -1)
		return plugin_fail(err, errlen, "unable to create stdin: %s",
		                   strerror(errno));
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			plugin_fail(err, errlen, "unable to write stdin: %s",
			            strerror(errno));
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) == -1) {
		plugin_fail(err, errlen, "unable to rewind stdin: %s",
		            strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
plugin_spawn(struct plugin_proc *p, const char *path,
             const struct plugin_env *env, const struct plugin_args *args,
             const void *in, size_t len, char *err, size_t errlen)
{
	char *argv[] = {(char *)path, "reconcile", NULL};
	char *envp[6] = {NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int infd, ep[2] = {-1, -1}, rv, i;
	pid_t pid;

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->errfd = -1;
	if ((infd = stdin_file(in, len, err, errlen)) == -1)
		return -1;
	if (pipe2(ep, O_CLOEXEC) == -1) {
		plugin_fail(err, errlen, "unable to create a pipe: %s",
		            strerror(errno));
		close(infd);
		return -1;
	}
	envp[0] = env_var("RECON_WORKLOAD_ID", args->workload_id);
	envp[1] = env_var("RECON_SOURCE_KIND", args->source_kind);
	envp[2] = env_var("RECON_REASON", args->reason);
	envp[3] = env_var("DOCKER_HOST", env->docker_host);
	envp[4] = env_var("PATH", env->path);

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, infd, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
	posix_spawn_file_actions_addchdir_np(&fa, "/");
	/* nng's, curl's and our own descriptors stay with us */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	                                    POSIX_SPAWN_SETSIGMASK |
	                                    POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	/* we ignore SIGPIPE; a plugin gets every signal's default back */
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_setsigdefault(&attr, &all);
	rv = posix_spawn(&pid, path, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rv != 0) {
		plugin_fail(err, errlen, "unable to start plugin %s: %s", path,
		            strerror(rv));
		rv = -1;
		goto out;
	}
	p->pid = pid;
	p->errfd = ep[0];
	ep[0] = -1;
	if (fcntl(p->errfd, F_SETFL, O_NONBLOCK) == -1) {
		/* a blocking read would stall the loop: do without */
		close(p->errfd);
		p->errfd = -1;
	}
out:
	for (i = 0; i < 5; i++)
		free(envp[i]);
	close(infd);
	close(ep[1]);
	if (ep[0] != -1)
		close(ep[0]);
	return rv;
}

static void
err_append(struct plugin_proc *p, const char *buf, size_t n)
{
	size_t keep;

	if (n >= PLUGIN_ERR_MAX) {
		memcpy(p->err, buf + n - PLUGIN_ERR_MAX, PLUGIN_ERR_MAX);
		p->errcut = p->errcut || p->errlen > 0 || n > PLUGIN_ERR_MAX;
		p->errlen = PLUGIN_ERR_MAX;
		return;
	}
	if (p->errlen + n > sizeof(p->err)) {
		p->errcut = true;
		keep = PLUGIN_ERR_MAX - n;
		memmove(p->err, p->err + p->errlen - keep, keep);
		p->errlen = keep;
	}
	memcpy(p->err + p->errlen, buf, n);
	p->errlen += n;
}

void
plugin_read_err(struct plugin_proc *p)
{
	char buf[PLUGIN_ERR_MAX];
	ssize_t n;

	if (p->errfd == -1)
		return;
	while ((n = read(p->errfd, buf, sizeof(buf))) > 0)
		err_append(p, buf, (size_t)n);
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(p->errfd);
		p->errfd = -1;
	}
}

bool
plugin_exited(struct plugin_proc *p)
{
	siginfo_t si;

	if (p->exited || p->pid <= 0)
		return true;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	        -1 ||
	    si.si_pid != p->pid)
		return false;
	p->exited = true;
	if (si.si_code == CLD_EXITED)
		p->exit_code = si.si_status;
	else
		p->signo = si.si_status;
	return true;
}

void
plugin_kill(struct plugin_proc *p, int sig)
{
	/* the unreaped leader keeps the group id ours */
	if (p->pid > 0 && !p->reaped)
		kill(-p->pid, sig);
}

void
plugin_close_err(struct plugin_proc *p)
{
	plugin_read_err(p);
	if (p->errfd != -1) {
		close(p->errfd);
		p->errfd = -1;
	}
}

void
plugin_reap(struct plugin_proc *p)
{
	int status;

	plugin_close_err(p);
	if (p->pid <= 0 || p->reaped)
		return;
	while (waitpid(p->pid, &status, 0) == -1 && errno == EINTR)
		;
	p->reaped = true;
	if (!p->exited) {
		p->exited = true;
		if (WIFEXITED(status))
			p->exit_code = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			p->signo = WTERMSIG(status);
	}
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

bool
plugin_err_cut(const struct plugin_proc *p)
{
	return p->errcut || p->errlen > PLUGIN_ERR_MAX;
}

void
plugin_err_text(const struct plugin_proc *p, char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)p->err;
	size_t n = p->errlen, i = 0, o = 0, k;

	if (len == 0)
		return;
	if (n > PLUGIN_ERR_MAX) {
		s += n - PLUGIN_ERR_MAX;
		n = PLUGIN_ERR_MAX;
	}
	/* the cut may have split a character: skip its continuation */
	while (i < n && i < 3 && (s[i] & 0xc0) == 0x80)
		i++;
	while (i < n && o + 4 < len) {
		if ((k = utf8_len(s + i, n - i)) == 0) {
			buf[o++] = '?';
			i++;
			continue;
		}
		if (k == 1 && ((s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') ||
		               s[i] == 0x7f))
			buf[o++] = '?';
		else {
			memcpy(buf + o, s + i, k);
			o += k;
		}
		i += k;
	}
	while (o > 0 && (buf[o - 1] == '\n' || buf[o - 1] == ' ' ||
	                 buf[o - 1] == '\t' || buf[o - 1] == '\r'))
		o--;
	buf[o] = '\0';
}
