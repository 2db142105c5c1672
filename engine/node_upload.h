/* node_upload.h - the data of voice_upload and file_upload nodes. */
#ifndef BLUEFLOW_NODE_UPLOAD_H
#define BLUEFLOW_NODE_UPLOAD_H

struct upload_data {
	unsigned max_seconds;        /* voice: longest accepted; 0 for files */
	unsigned long max_bytes;     /* never above Telegram's 20 MB */
	const char *const *mimes;    /* files: "type/subtype", or "type/" + "*" */
	unsigned n_mimes;
};

#endif
