/* sql.h - the schema migrations built into the binary (from sql/). */
#ifndef BLUEFLOW_SQL_H
#define BLUEFLOW_SQL_H

struct sql_file {
	const char *backend;    /* "postgres" or "sqlite" */
	int version;            /* NNN of NNN_name.sql */
	const char *name;
	const char *text;
};

/* Every migration of every backend, by backend then version; the list
 * ends with an entry whose backend is NULL. */
extern const struct sql_file sql_files[];

#endif
