/* back.h - the chat's path of waiting nodes, for the Back button: the
 * last STEP_PATH_MAX node ids, kept in the context under STEP_PATH_KEY
 * (a JSON array as a string) when the flow has a node with "back". */
#ifndef BLUEFLOW_BACK_H
#define BLUEFLOW_BACK_H

#include "engine/step.h"

/* Records that the chat now waits at node id (once, when it is already
 * last). Returns 0, or -1 when memory runs out. */
int back_push(struct step *s, const char *id);

/* Takes the previous waiting node off the path: the entry before the
 * trailing ones that are cur's id, skipping ids the flow no longer has.
 * Returns its index, or -1 when there is none; NODE_FAIL when memory
 * runs out. */
int back_pop(struct step *s, const char *cur);

#endif
