/* schema.h - the JSON Schema of flow files and the reference of node
 * keys, made from the node registry. */
#ifndef BLUEFLOW_SCHEMA_H
#define BLUEFLOW_SCHEMA_H

#include <stdio.h>

#include <json-c/json.h>

/* Returns the JSON Schema (draft 2020-12) of a flow file: a new reference
 * the caller puts, or NULL when memory runs out. */
json_object *schema_build(void);

/* Writes the reference of every node type's keys, as Markdown, to o. */
void schema_markdown(FILE *o);

#endif
