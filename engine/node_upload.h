/* node_upload.h - the data of voice_upload and file_upload nodes. */
#ifndef BLUEFLOW_NODE_UPLOAD_H
#define BLUEFLOW_NODE_UPLOAD_H

#include "engine/flow.h"
#include "engine/node.h"

struct upload_data {
	int max_seconds;             /* voice: longest accepted; 0 for files */
	double max_mb;               /* as written (default 20) */
	unsigned long max_bytes;     /* never above Telegram's 20 MB */
	const char *const *mimes;    /* files: "type/subtype", or "type/" + "*" */
	unsigned n_mimes;
	int photos;                  /* files: a photo sent as a photo is taken */
};

/* The validate() of both: max_mb in bytes. */
static inline int upload_validate(struct check *c, struct flow_node *n,
	json_object *obj, const char *path)
{
	struct upload_data *d = n->data;
	(void)c;
	(void)obj;
	(void)path;
	d->max_bytes = (unsigned long)(d->max_mb * 1024 * 1024);
	return 0;
}

/* "max_mb", shared by both. */
#define NODE_UPLOAD_MAX_MB_ENTRY \
	{ "max_mb", NODE_KEY_NUMBER, .min = 0, .max = FLOW_MAX_MB, .has_def = 1, \
	  .def = FLOW_MAX_MB, .desc = "The largest file accepted, in megabytes " \
	  "(Telegram's download limit is 20).", \
	  NODE_DATA_AT(struct upload_data, max_mb) }

#endif
