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
};

/* "max_mb", shared by both. */
#define NODE_UPLOAD_MAX_MB_ENTRY \
	{ "max_mb", NODE_KEY_NUMBER, .min = 0, .max = FLOW_MAX_MB, .has_def = 1, \
	  .def = FLOW_MAX_MB, .desc = "The largest file accepted, in megabytes " \
	  "(Telegram's download limit is 20).", \
	  NODE_DATA_AT(struct upload_data, max_mb) }

#endif
