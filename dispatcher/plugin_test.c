/*
 * plugin_test.c: plugin checks and processes on real files and real
 * shell plugins: each refusal, the clean environment and descriptors,
 * stdin, the stderr tail, the process group and killing it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugin.h"
#include "test_proc.h"

struct fx {
	char dir[64]; /* the test's own */
	char plugins[128];
	char out[128]; /* where plugins write what they saw */
};

static const struct plugin_env env = {"unix:///nowhere.sock", "/usr/bin:/bin"};
static const struct plugin_args args = {"wl-1", "good", "manual"};

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static char *
read_file(const char *path, size_t *len)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/recon-plugin-test.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	assert_int_equal(chmod(fx->dir, 0755), 0);
	snprintf(fx->plugins, sizeof(fx->plugins), "%s/plugins", fx->dir);
	assert_int_equal(mkdir(fx->plugins, 0755), 0);
	assert_int_equal(chmod(fx->plugins, 0755), 0);
	snprintf(fx->out, sizeof(fx->out), "%s/out", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static void
plugin(struct fx *fx, const char *name, const char *body, mode_t mode)
{
	char path[256], text[4096];

	snprintf(path, sizeof(path), "%s/%s", fx->plugins, name);
	snprintf(text, sizeof(text), "#!/bin/sh\nOUT=%s\n%s", fx->out, body);
	write_file(path, text, mode);
}

/* check(kind) fails with a reason containing want. */
static void
refused(struct fx *fx, const char *dir, const char *kind, const char *want)
{
	char path[PLUGIN_PATH_MAX], err[512] = "";

	if (plugin_check(dir, kind, path, sizeof(path), err, sizeof(err)) != -1)
		fail_msg("plugin %s in %s was accepted", kind, dir);
	if (strstr(err, want) == NULL)
		fail_msg("plugin %s: \"%s\" does not say \"%s\"", kind, err,
		         want);
}

static void
test_check_refusals(void **state)
{
	struct fx *fx = *state;
	char path[PLUGIN_PATH_MAX], err[512], other[256], link[256];

	plugin(fx, "good", "exit 0\n", 0755);
	assert_int_equal(plugin_check(fx->plugins, "good", path, sizeof(path),
	                              err, sizeof(err)),
	                 0);

	refused(fx, fx->plugins, "../plugins/good", "invalid source_kind");
	refused(fx, fx->plugins, "Good", "invalid source_kind");
	refused(fx, fx->plugins, "", "invalid source_kind");
	refused(fx, fx->plugins, NULL, "invalid source_kind");
	refused(fx, fx->plugins, "missing", "no plugin");
	refused(fx, "/nonexistent-recon-dir", "good", "plugin directory");

	plugin(fx, "groupw", "exit 0\n", 0775);
	refused(fx, fx->plugins, "groupw", "writable by group or others");
	plugin(fx, "worldw", "exit 0\n", 0757);
	refused(fx, fx->plugins, "worldw", "writable by group or others");
	plugin(fx, "noexec", "exit 0\n", 0644);
	refused(fx, fx->plugins, "noexec", "not executable");
	plugin(fx, "foreign", "exit 0\n", 0755);
	snprintf(path, sizeof(path), "%s/foreign", fx->plugins);
	assert_int_equal(chown(path, 65534, 65534), 0);
	refused(fx, fx->plugins, "foreign", "owned by uid 65534");
	snprintf(path, sizeof(path), "%s/adir", fx->plugins);
	assert_int_equal(mkdir(path, 0755), 0);
	refused(fx, fx->plugins, "adir", "not a regular file");

	/* a world-writable directory taints every plugin in it */
	assert_int_equal(chmod(fx->plugins, 0777), 0);
	refused(fx, fx->plugins, "good", "writable by group or others");
	assert_int_equal(chmod(fx->plugins, 01777), 0);
	refused(fx, fx->plugins, "good", "writable by group or others");
	assert_int_equal(chmod(fx->plugins, 0755), 0);
	assert_int_equal(chown(fx->plugins, 65534, 65534), 0);
	refused(fx, fx->plugins, "good", "owned by uid 65534");
	assert_int_equal(chown(fx->plugins, 0, 0), 0);

	/* a symlink is judged by its target and the target's directory */
	snprintf(other, sizeof(other), "%s/elsewhere", fx->dir);
	assert_int_equal(mkdir(other, 0777), 0);
	assert_int_equal(chmod(other, 0777), 0);
	snprintf(path, sizeof(path), "%s/target", other);
	write_file(path, "#!/bin/sh\nexit 0\n", 0755);
	snprintf(link, sizeof(link), "%s/linked", fx->plugins);
	assert_int_equal(symlink(path, link), 0);
	refused(fx, fx->plugins, "linked", "writable by group or others");
	assert_int_equal(chmod(other, 0755), 0);
	assert_int_equal(plugin_check(fx->plugins, "linked", path, sizeof(path),
	                              err, sizeof(err)),
	                 0);
	assert_non_null(strstr(path, "/elsewhere/target"));
}

/* Polls until the process exits (at most ms); reads stderr meanwhile. */
static bool
wait_exit(struct plugin_proc *p, int ms)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	int i;

	for (i = 0; i < ms / 10; i++) {
		plugin_read_err(p);
		if (plugin_exited(p))
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static void
test_spawn_environment(void **state)
{
	struct fx *fx = *state;
	char path[PLUGIN_PATH_MAX], err[512], f[256], *s;
	const char *in = "{\"secret\":\"hunter2\"}\n";
	struct plugin_proc p;
	size_t len;

	/* records its environment as exec'd, argv, cwd, stdin, pgid */
	plugin(fx, "good",
	       "tr '\\0' '\\n' </proc/$$/environ | sort >$OUT.env\n"
	       "tr '\\0' ' ' </proc/$$/cmdline >$OUT.argv\n"
	       "pwd >$OUT.cwd\n"
	       "cat >$OUT.stdin\n"
	       "ps -o pgid= -p $$ | tr -d ' ' >$OUT.pgid\n"
	       "echo ok\n"
	       "exec sleep 0.3\n",
	       0755);
	assert_int_equal(plugin_check(fx->plugins, "good", path, sizeof(path),
	                              err, sizeof(err)),
	                 0);
	assert_int_equal(plugin_spawn(&p, path, &env, &args, in, strlen(in),
	                              err, sizeof(err)),
	                 0);
	assert_true(p.pid > 0);
	assert_int_equal(getpgid(p.pid), p.pid);
	assert_true(wait_exit(&p, 5000));
	plugin_reap(&p);
	assert_int_equal(p.exit_code, 0);
	assert_int_equal(p.signo, 0);

	snprintf(f, sizeof(f), "%s.env", fx->out);
	assert_non_null(s = read_file(f, NULL));
	assert_string_equal(s, "DOCKER_HOST=unix:///nowhere.sock\n"
	                       "PATH=/usr/bin:/bin\n"
	                       "RECON_REASON=manual\n"
	                       "RECON_SOURCE_KIND=good\n"
	                       "RECON_WORKLOAD_ID=wl-1\n");
	snprintf(f, sizeof(f), "%s.argv", fx->out);
	assert_non_null(s = read_file(f, NULL));
	assert_non_null(strstr(s, "/plugins/good reconcile "));
	snprintf(f, sizeof(f), "%s.cwd", fx->out);
	assert_string_equal(read_file(f, NULL), "/\n");
	snprintf(f, sizeof(f), "%s.stdin", fx->out);
	assert_non_null(s = read_file(f, &len));
	assert_int_equal(len, strlen(in));
	assert_memory_equal(s, in, len);
	snprintf(f, sizeof(f), "%s.pgid", fx->out);
	assert_non_null(s = read_file(f, NULL));
	assert_int_equal(atoi(s), p.pid);
	/* stdout went to /dev/null, not into the error text */
	plugin_err_text(&p, err, sizeof(err));
	assert_string_equal(err, "");
}

/* Only 0, 1 and 2 are open in the plugin: nothing of ours leaks. */
static void
test_spawn_descriptors(void **state)
{
	struct fx *fx = *state;
	char path[PLUGIN_PATH_MAX], err[512], dir[64], target[256];
	char link[400];
	struct plugin_proc p;
	struct dirent *de;
	int leak = open("/dev/null", O_RDONLY), n = 0;
	ssize_t k;
	DIR *d;

	assert_true(leak > 2); /* and not CLOEXEC */
	plugin(fx, "good", "exec sleep 2\n", 0755);
	assert_int_equal(plugin_check(fx->plugins, "good", path, sizeof(path),
	                              err, sizeof(err)),
	                 0);
	assert_int_equal(
	    plugin_spawn(&p, path, &env, &args, "x", 1, err, sizeof(err)), 0);
	usleep(300 * 1000); /* sh has exec'd sleep by now */
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)p.pid);
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		k = readlink(link, target, sizeof(target) - 1);
		target[k > 0 ? k : 0] = '\0';
		if (atoi(de->d_name) > 2)
			fail_msg("fd %s (%s) is open in the plugin", de->d_name,
			         target);
		if (strcmp(de->d_name, "1") == 0)
			assert_string_equal(target, "/dev/null");
		if (strcmp(de->d_name, "0") == 0)
			assert_non_null(strstr(target, "memfd:"));
	}
	closedir(d);
	assert_int_equal(n, 3);
	close(leak);
	plugin_kill(&p, SIGKILL);
	assert_true(wait_exit(&p, 5000));
	plugin_reap(&p);
	assert_int_equal(p.signo, SIGKILL);
}

static void
test_stderr_tail(void **state)
{
	struct fx *fx = *state;
	char path[PLUGIN_PATH_MAX], err[PLUGIN_ERR_MAX + 8];
	struct plugin_proc p;

	/* 10000 bytes of noise, then the line that matters, then a NUL and
	 * an escape that must not reach the store */
	plugin(fx, "good",
	       "i=0; while [ $i -lt 1000 ]; do printf 'noise%04d\\n' $i >&2; "
	       "i=$((i+1)); done\n"
	       "printf 'it broke: caf\\303\\251 \\033[1m\\000end\\n\\n' >&2\n"
	       "exit 3\n",
	       0755);
	assert_int_equal(plugin_check(fx->plugins, "good", path, sizeof(path),
	                              err, sizeof(err)),
	                 0);
	assert_int_equal(
	    plugin_spawn(&p, path, &env, &args, "", 0, err, sizeof(err)), 0);
	assert_true(wait_exit(&p, 5000));
	plugin_reap(&p);
	assert_int_equal(p.exit_code, 3);
	plugin_err_text(&p, err, sizeof(err));
	assert_true(strlen(err) <= PLUGIN_ERR_MAX);
	assert_true(strlen(err) > PLUGIN_ERR_MAX - 100);
	assert_non_null(
	    strstr(err, "noise0999\nit broke: caf\xc3\xa9 ?[1m?end"));
	assert_null(strstr(err, "noise0001"));
	assert_int_equal(err[strlen(err) - 1], 'd'); /* trailing \n trimmed */
}

/* The whole group goes: the plugin and a child it left in the background
 * that ignores SIGTERM. */
static void
test_kill_group(void **state)
{
	struct fx *fx = *state;
	char path[PLUGIN_PATH_MAX], err[512], f[256], *s;
	struct plugin_proc p;
	pid_t child = 0;
	int i;

	plugin(fx, "good",
	       "(trap '' TERM; exec sleep 60) &\n"
	       "echo $! >$OUT.child\n"
	       "sleep 60\n",
	       0755);
	assert_int_equal(plugin_check(fx->plugins, "good", path, sizeof(path),
	                              err, sizeof(err)),
	                 0);
	assert_int_equal(
	    plugin_spawn(&p, path, &env, &args, "", 0, err, sizeof(err)), 0);
	snprintf(f, sizeof(f), "%s.child", fx->out);
	for (i = 0; i < 500 && child == 0; i++) {
		if ((s = read_file(f, NULL)) != NULL)
			child = atoi(s);
		usleep(10 * 1000);
	}
	assert_true(child > 0);
	usleep(100 * 1000);
	assert_true(alive(child));
	plugin_kill(&p, SIGTERM);
	assert_true(wait_exit(&p, 5000));
	assert_int_equal(p.signo, SIGTERM);
	/* the leader is a zombie, not reaped: the group id is still ours,
	 * and the child that ignored TERM lives on until KILL */
	usleep(100 * 1000);
	assert_true(alive(child));
	plugin_kill(&p, SIGKILL);
	for (i = 0; i < 300 && alive(child); i++)
		usleep(10 * 1000);
	assert_false(alive(child));
	plugin_reap(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_check_refusals, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_spawn_environment, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_spawn_descriptors, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_stderr_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kill_group, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
