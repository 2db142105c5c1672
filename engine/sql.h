/* sql.h - the schema migrations built into the binary (from sql/). */
#ifndef BLUEFLOW_SQL_H
#define BLUEFLOW_SQL_H

struct sql_file {
	int version;            /* NNN of NNN_name.sql */
	const char *name;
	const char *text;
};

/* The migrations of each backend (sql/postgres/, sql/sqlite/), by
 * version; each list ends with an entry whose name is NULL. */
extern const struct sql_file sql_postgres[];
extern const struct sql_file sql_sqlite[];

#endif
