/*
 * lockfile.h: one instance per run dir and process name.
 */
#ifndef RECON_LOCKFILE_H
#define RECON_LOCKFILE_H

/* Takes <run_dir>/<name>.lock (flock, pid written inside). Returns the
 * held fd, or -1 after logging who holds it (caller exits 111). */
int lockfile_take(const char *run_dir, const char *name);

#endif
