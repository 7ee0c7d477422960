/*
 * dump.c: `reconctl dump --data-dir DIR`: the store's database, offline
 * and read-only, as one JSON object {rev, oldest_rev, workloads,
 * containers, hosts} (secrets only with --show-secrets; hosts: the
 * stored host records). For backups, audits and a look at a store that
 * will not start.
 */
#include <stdio.h>

#include "ctl.h"
#include "db.h"
#include "log.h"
#include "wirejson.h"

struct dump {
	json_object *workloads, *rows, *hosts;
	uint64_t rev, oldest;
	int bad;
};

/* Adds the JSON form of one encoded record to arr. */
static int
dump_add(struct dump *d, json_object *arr, struct wbuf *b)
{
	char err[WIRE_ERR_LEN];
	json_object *o = wire_to_json(b->data, b->len, err);

	wbuf_reset(b);
	if (o == NULL) {
		d->bad++;
		return 0;
	}
	json_object_array_add(arr, o);
	return 0;
}

static int
dump_workload(void *arg, struct wire_workload *w)
{
	struct dump *d = arg;
	struct wbuf b = {0};
	int rc;

	wire_encode_workload(&b, w, ctl_opts.show_secrets);
	rc = dump_add(d, d->workloads, &b);
	wbuf_free(&b);
	return rc;
}

static int
dump_row(void *arg, struct wire_row *r)
{
	struct dump *d = arg;
	struct wbuf b = {0};
	int rc;

	wire_encode_row(&b, r);
	rc = dump_add(d, d->rows, &b);
	wbuf_free(&b);
	return rc;
}

static int
dump_host(void *arg, struct wire_host *h)
{
	struct dump *d = arg;
	struct wbuf b = {0};
	int rc;

	wire_encode_host_record(&b, h);
	rc = dump_add(d, d->hosts, &b);
	wbuf_free(&b);
	return rc;
}

static int
dump_txn(struct dbtx *tx, void *arg)
{
	struct dump *d = arg;

	d->rev = db_head(tx);
	d->oldest = db_oldest(tx);
	if (db_workloads_each(tx, NULL, dump_workload, d) != 0 ||
	    db_rows_each(tx, NULL, dump_row, d) != 0 ||
	    db_hosts_each(tx, NULL, dump_host, d) != 0)
		return -1;
	return 0;
}

int
ctl_dump(char **args)
{
	struct db_config cfg = {.dir = ctl_opts.data_dir, .readonly = true};
	struct dump d = {0};
	json_object *out;
	struct db *db;

	if (ctl_opts.data_dir == NULL) {
		fprintf(stderr, "usage: reconctl dump --data-dir DIR\n");
		return CTL_EXIT_USAGE;
	}
	log_init("reconctl", "text", 0);
	if ((db = db_open(&cfg)) == NULL)
		return CTL_EXIT_NO;
	d.workloads = json_object_new_array();
	d.rows = json_object_new_array();
	d.hosts = json_object_new_array();
	if (db_read(db, dump_txn, &d) != 0) {
		db_close(db);
		json_object_put(d.workloads);
		json_object_put(d.rows);
		json_object_put(d.hosts);
		return CTL_EXIT_NO;
	}
	db_close(db);
	out = json_object_new_object();
	json_object_object_add(out, "rev", json_object_new_uint64(d.rev));
	json_object_object_add(out, "oldest_rev",
	                       json_object_new_uint64(d.oldest));
	json_object_object_add(out, "workloads", d.workloads);
	json_object_object_add(out, "containers", d.rows);
	json_object_object_add(out, "hosts", d.hosts);
	ctl_print_json(out);
	json_object_put(out);
	if (d.bad > 0) {
		fprintf(stderr, "reconctl: %d records could not be read\n",
		        d.bad);
		return CTL_EXIT_NO;
	}
	return CTL_EXIT_OK;
}
