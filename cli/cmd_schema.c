/* cmd_schema.c - `blueflow schema [--markdown | --types]`: prints the JSON
 * Schema of flow files (flows/flow.schema.json), the reference of node
 * keys (docs/flows.md) or the node types, all made from the registry. */
#include <stdio.h>
#include <string.h>

#include "engine/node.h"
#include "engine/schema.h"
#include "cli/cmd.h"

static void schema_usage(FILE *f)
{
	fprintf(f, "usage: blueflow schema [--markdown | --types]\n\n"
		"Prints the JSON Schema of flow files (draft 2020-12), made from the\n"
		"node types blueflow has; flows/flow.schema.json is this output.\n\n"
		"  --markdown    the reference of every node type's keys instead, as\n"
		"                in docs/flows.md\n"
		"  --types       the node types instead, as \"choice, text, ...\"\n"
		"  -h, --help    show this help\n\n"
		"Exit status: 0 printed, 1 out of memory or a write error, 2 usage error.\n\n"
		"Example:\n  blueflow schema > flows/flow.schema.json\n");
}

static int schema_json(void)
{
	json_object *s = schema_build();
	const char *text;

	if (s == NULL)
		return -1;
	text = json_object_to_json_string_ext(s, JSON_C_TO_STRING_PRETTY |
		JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text)
		printf("%s\n", text);
	json_object_put(s);
	return text ? 0 : -1;
}

int cmd_schema(int argc, char **argv)
{
	char list[512];
	const char *mode = "json";

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			schema_usage(stdout);
			return CMD_OK;
		} else if (strcmp(argv[i], "--markdown") == 0 ||
			   strcmp(argv[i], "--types") == 0) {
			mode = argv[i] + 2;
		} else {
			fprintf(stderr, "blueflow schema: unknown argument \"%s\"\n", argv[i]);
			schema_usage(stderr);
			return CMD_USAGE;
		}
	}
	if (strcmp(mode, "markdown") == 0) {
		schema_markdown(stdout);
	} else if (strcmp(mode, "types") == 0) {
		node_type_list(list, sizeof(list));
		printf("%s\n", list);
	} else if (schema_json() != 0) {
		fprintf(stderr, "blueflow schema: out of memory\n");
		return CMD_FAIL;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "blueflow schema: cannot write the output\n");
		return CMD_FAIL;
	}
	return CMD_OK;
}
