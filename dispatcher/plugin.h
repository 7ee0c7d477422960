/*
 * plugin.h: one source plugin process (SPEC §8): the checks that refuse a
 * plugin, posix_spawn in its own process group with a clean environment
 * and the job on stdin, the tail of its stderr, signals to its group, its
 * exit. Mechanism only: when to run and what to report is runner.c's.
 */
#ifndef RECON_PLUGIN_H
#define RECON_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PLUGIN_ERR_MAX  4096 /* the tail of stderr kept as error text */
#define PLUGIN_PATH_MAX 4096

/* What every plugin's environment is made of besides the run's own. */
struct plugin_env {
	const char *docker_host; /* DOCKER_HOST */
	const char *path;        /* PATH */
};

/* One run of a plugin: identity for its environment. */
struct plugin_args {
	const char *workload_id;
	const char *source_kind;
	const char *reason;
};

struct plugin_proc {
	pid_t pid; /* also its process group */
	int errfd; /* read end of its stderr, -1 once closed */
	char err[2 * PLUGIN_ERR_MAX];
	size_t errlen;
	bool errcut; /* stderr before err was dropped */
	bool exited; /* seen by plugin_exited (maybe not yet reaped) */
	bool reaped;
	int exit_code; /* once exited: its exit status, or */
	int signo;     /* the signal that ended it (0: none) */
};

/* Whether dir may hold plugins: a directory owned by root or by us,
 * writable by neither group nor others. 0, or -1 with the reason in err. */
int plugin_dir_check(const char *dir, char *err, size_t errlen);
/*
 * Whether the plugin for kind may run: kind matches ^[a-z0-9][a-z0-9_-]{0,63}$;
 * dir and the file (a symlink is followed, and its target's directory is
 * checked as well) are owned by root or by us and writable by neither
 * group nor others; the file is a regular, executable file. 0 with the
 * path to run in path; -1 with the reason in err.
 */
int plugin_check(const char *dir, const char *kind, char *path, size_t pathlen,
                 char *err, size_t errlen);

/*
 * Starts `path reconcile` in a process group of its own, with only the
 * environment of SPEC §8, in "/", with in (len bytes) readable on its
 * stdin, stdout on /dev/null and stderr into p->errfd (non-blocking), and
 * no other descriptor open. 0, or -1 with the reason in err.
 */
int plugin_spawn(struct plugin_proc *p, const char *path,
                 const struct plugin_env *env, const struct plugin_args *args,
                 const void *in, size_t len, char *err, size_t errlen);

/* Reads what stderr has without blocking, keeping the last PLUGIN_ERR_MAX
 * bytes; closes it at end of file. */
void plugin_read_err(struct plugin_proc *p);
/* Whether the process exited, without reaping it: its zombie keeps the
 * process group's id from being reused while stragglers may live on. */
bool plugin_exited(struct plugin_proc *p);
/* Sends sig to the process's whole group. */
void plugin_kill(struct plugin_proc *p, int sig);
/* Reads the last of stderr and closes it: a child of the plugin may
 * hold it open long after, and that is not ours to wait for. */
void plugin_close_err(struct plugin_proc *p);
/* Closes stderr and reaps the exited process. */
void plugin_reap(struct plugin_proc *p);
/* The error text: the stderr tail as one clean string (no NUL or other
 * control bytes but newline and tab, no broken UTF-8 sequence at its
 * start, trailing white space trimmed). */
void plugin_err_text(const struct plugin_proc *p, char *buf, size_t len);
/* Whether that text starts after the start of stderr (a cut, which may
 * have split an echoed secret). */
bool plugin_err_cut(const struct plugin_proc *p);

#endif
