/* schema.c - the JSON Schema of a flow file (`blueflow schema`, kept in
 * flows/flow.schema.json) and the reference of node keys in docs/flows.md
 * (`blueflow schema --markdown`), both made from the node registry: each
 * type's table of keys, its reasons and its schema() hook. The kinds of
 * values (texts, node references, names...) are defined here once. */
#include "engine/schema.h"

#include <stdio.h>
#include <string.h>

#include "engine/flow.h"
#include "engine/node.h"

/* A $defs entry written as JSON text. */
struct schema_def {
	const char *name;
	const char *json;
};

/* The kinds of values, and the flow around the nodes. */
static const struct schema_def schema_static[] = {
	{ "nodeId",
		"{\"description\": \"A node id: 1 to 64 bytes (UTF-8; the schema co"
		"unts characters) without control characters. In the canonical form"
		" the ids are the top-level keys; \\\"0\\\" is the start node.\", "
		"\"type\": \"string\", \"minLength\": 1, \"maxLength\": 64, \"patte"
		"rn\": \"^[^\\\\u0000-\\\\u001f\\\\u007f]*$(?!\\\\n)\"}" },
	{ "nodeRef",
		"{\"description\": \"A reference to a node by its id: a non-empty s"
		"tring, or a whole number >= 0 meaning the id written in digits ("
		"\\\"next\\\": 10 is \\\"next\\\": \\\"10\\\"). The node must exist"
		" (checked by `blueflow check`, not by this schema).\", \"anyOf\": "
		"[{\"type\": \"string\", \"minLength\": 1, \"description\": \"The i"
		"d of a node.\"}, {\"type\": \"integer\", \"minimum\": 0, \"descrip"
		"tion\": \"A node id written as a number: 10 names the node \\\"10"
		"\\\".\"}]}" },
	{ "plainString",
		"{\"description\": \"A string without NUL characters (\\\\u0000).\""
		", \"type\": \"string\", \"pattern\": \"^[^\\\\u0000]*$(?!\\\\n)\"}" },
	{ "languageCode",
		"{\"description\": \"A Telegram language_code such as \\\"en\\\", "
		"\\\"ru\\\" or \\\"pt-br\\\": 2-3 lowercase letters, optionally '-'"
		" or '_' and 2-8 letters or digits.\", \"type\": \"string\", \"patt"
		"ern\": \"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$(?!\\\\n)\"}" },
	{ "textString",
		"{\"description\": \"A message text (HTML) as one string: Telegram "
		"HTML (tags b, strong, i, em, u, ins, s, strike, del, tg-spoiler, s"
		"pan, a, code, pre, blockquote, tg-emoji, opened and closed in orde"
		"r; &lt; &gt; &amp; &quot; and &#NN; for <, >, & and \\\" in text),"
		" {{key}} inserts a saved value. Not empty or only whitespace, at m"
		"ost 4096 characters once tags are removed (as Telegram counts: UTF"
		"-16 units, an emoji counts twice; this schema counts characters, a"
		"nd only for texts without tags or entities; `blueflow check` check"
		"s the rest and that tags are balanced), no NUL.\", \"type\": \"str"
		"ing\", \"minLength\": 1, \"allOf\": [{\"pattern\": \"^[^\\\\u0000]"
		"*[^\\\\u0000\\\\t\\\\n\\\\r ][^\\\\u0000]*$(?!\\\\n)\", \"descript"
		"ion\": \"Not empty or only whitespace, no NUL.\"}, {\"pattern\": "
		"\"^(?:[^&<]|&(?:lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);|</?(?:b"
		"|strong|i|em|u|ins|s|strike|del|tg-spoiler|span|a|code|pre|blockqu"
		"ote|tg-emoji)(?:>| [^>]*>))*$(?!\\\\n)\", \"description\": \"Only "
		"the tags Telegram accepts; a literal < or & is written &lt; or &am"
		"p;.\"}], \"if\": {\"not\": {\"pattern\": \"[<&]\"}}, \"then\": {\""
		"maxLength\": 4096, \"description\": \"Without tags or entities the"
		" text is what Telegram counts.\"}}" },
	{ "saveKey",
		"{\"description\": \"The name a node's answer is saved under (and r"
		"ead back as {{name}}): letters, digits and '_', 1 to 64, not start"
		"ing with a digit, not a built-in name such as \\\"start_param\\\"."
		"\", \"type\": \"string\", \"pattern\": \"^[A-Za-z_][A-Za-z0-9_]{0,"
		"63}$(?!\\\\n)\", \"not\": {\"const\": \"start_param\"}}" },
	{ "regex",
		"{\"description\": \"A PCRE2 regular expression (UTF mode) that mus"
		"t match the whole value. Its syntax is checked by `blueflow check`"
		", not by this schema.\", \"allOf\": [{\"$ref\": \"#/$defs/plainStr"
		"ing\"}]}" },
	{ "nodes",
		"{\"description\": \"The nodes: node id -> node (at least one).\", "
		"\"type\": \"object\", \"minProperties\": 1, \"propertyNames\": {\""
		"$ref\": \"#/$defs/nodeId\"}, \"additionalProperties\": {\"$ref\": "
		"\"#/$defs/node\"}, \"allOf\": []}" },
	{ "commandName",
		"{\"description\": \"A Telegram command: '/' and 1 to 32 lowercase "
		"letters, digits or '_'; not /start (it always restarts the flow at"
		" \\\"start\\\").\", \"type\": \"string\", \"pattern\": \"^/[a-z0-9"
		"_]{1,32}$(?!\\\\n)\", \"not\": {\"const\": \"/start\"}}" },
	{ "canonicalFlow",
		"{\"description\": \"The canonical form: an object of node id -> no"
		"de. The flow starts at node \\\"0\\\".\", \"type\": \"object\", \""
		"required\": [\"0\"], \"allOf\": [{\"$ref\": \"#/$defs/nodes\"}]}" },
	{ "extendedFlow",
		"{\"description\": \"The extended form: the nodes under \\\"nodes"
		"\\\", and flow settings.\", \"type\": \"object\", \"required\": ["
		"\"nodes\"], \"properties\": {\"$schema\": {\"allOf\": [{\"$ref\": "
		"\"#/$defs/plainString\"}], \"description\": \"The JSON Schema of t"
		"he flow, for editors, e.g. \\\"../flows/flow.schema.json\\\"; blue"
		"flow ignores it.\"}, \"nodes\": {\"allOf\": [{\"$ref\": \"#/$defs/"
		"nodes\"}], \"description\": \"Node id -> node (required).\"}, \"st"
		"art\": {\"allOf\": [{\"$ref\": \"#/$defs/nodeRef\"}], \"descriptio"
		"n\": \"The id of the first node (default \\\"0\\\").\"}, \"command"
		"s\": {\"description\": \"Command -> node, e.g. {\\\"/help\\\": "
		"\\\"help\\\"}: the command jumps to that node.\", \"type\": \"obje"
		"ct\", \"propertyNames\": {\"$ref\": \"#/$defs/commandName\"}, \"ad"
		"ditionalProperties\": {\"$ref\": \"#/$defs/nodeRef\"}}, \"finished"
		"_text\": {\"allOf\": [{\"$ref\": \"#/$defs/text\"}], \"description"
		"\": \"What a chat whose flow has ended is told when it writes agai"
		"n.\"}, \"not_allowed_text\": {\"allOf\": [{\"$ref\": \"#/$defs/te"
		"xt\"}], \"description\": \"What a user on neither of the bot's a"
		"llowed_users and allowed_chats (config) is told, at most once a da"
		"y.\"}, \"messages\": {\"allOf\": [{\"$ref\": \"#/$defs/flowMessage"
		"s\"}]}, \"on_missing_node\": {\"allOf\": [{\"$ref\": \"#/$defs/nod"
		"eRef\"}], \"description\": \"Where chats go whose node was removed"
		" by a flow update (default: \\\"start\\\").\"}, \"forget_command\""
		": {\"allOf\": [{\"$ref\": \"#/$defs/commandName\"}], \"description"
		"\": \"A command, e.g. \\\"/forget\\\", that erases what the bot ke"
		"eps about the chat (answers, transcript, queued messages, uploads)"
		" and starts it over; not /start, and not one of \\\"commands\\\"."
		"\"}, \"name\": {\"allOf\": [{\"$ref\": \"#/$defs/plainString\"}], "
		"\"description\": \"A name for people.\"}, \"description\": {\"allO"
		"f\": [{\"$ref\": \"#/$defs/plainString\"}], \"description\": \"A d"
		"escription for people.\"}}, \"additionalProperties\": false, \"if"
		"\": {\"not\": {\"required\": [\"start\"]}}, \"then\": {\"propertie"
		"s\": {\"nodes\": {\"required\": [\"0\"]}}, \"description\": \"With"
		"out \\\"start\\\" the flow starts at node \\\"0\\\", which must ex"
		"ist.\"}}" },
	{ "duration",
		"{\"description\": \"A duration: whole seconds (1 to 31622400), or "
		"a whole number with a unit: \\\"90s\\\", \\\"10m\\\", \\\"2h\\\", "
		"\\\"3d\\\".\", \"oneOf\": [{\"type\": \"integer\", \"minimum\": 1, "
		"\"maximum\": 31622400}, {\"type\": \"string\", \"pattern\": "
		"\"^0*[1-9][0-9]*[smhd]$(?!\\\\n)\"}]}" },
	{ NULL, NULL }
};

/* The flow's settings of time (engine/timer.h), and its scope, added to
 * extendedFlow. */
static const struct schema_def schema_flow_time[] = {
	{ "inactive_after", "{\"allOf\": [{\"$ref\": \"#/$defs/duration\"}], "
		"\"description\": \"After this long without an update from a chat, "
		"it goes to \\\"on_inactive\\\" (a nudge), once per silence; needs "
		"\\\"on_inactive\\\".\"}" },
	{ "on_inactive", "{\"allOf\": [{\"$ref\": \"#/$defs/nodeRef\"}], "
		"\"description\": \"The node that nudges a silent chat: a cutscene "
		"that ends, or a question that resumes the chat; needs "
		"\\\"inactive_after\\\".\"}" },
	{ "timeout_text", "{\"allOf\": [{\"$ref\": \"#/$defs/text\"}], "
		"\"description\": \"What a chat is told when a node's timeout ends "
		"the flow (a node with \\\"timeout\\\" and no \\\"on_timeout\\\").\"}" },
	{ "timezone", "{\"allOf\": [{\"$ref\": \"#/$defs/plainString\"}], "
		"\"description\": \"The IANA time zone of \\\"send_at\\\" hours, "
		"e.g. \\\"Europe/Berlin\\\" (default UTC).\"}" },
	{ "scope", "{\"enum\": [\"chat\", \"user\"], \"description\": \"Whose state "
		"a group keeps: \\\"chat\\\" (default) one for the whole chat, "
		"\\\"user\\\" one per member; a press on a button made for another "
		"member is answered with \\\"not_yours\\\" and changes nothing. "
		"In a private chat both are the same.\"}" },
	{ NULL, NULL }
};

/* The flow's keyword intents (engine/intent.h), added to extendedFlow,
 * and the def of a list of keywords. */
static const struct schema_def schema_flow_intents[] = {
	{ "intents",
		"{\"description\": \"Keyword intents: a text with one of an inten"
		"t's keywords (in the chat's language) jumps to its \\\"next\\\","
		" when the chat's node takes no typed answer (a choice, a menu, a"
		"n upload...) or its flow has ended. The highest priority wins; a"
		"n intent within its cooldown for the chat is passed over.\", \"t"
		"ype\": \"array\", \"minItems\": 1, \"maxItems\": 64, \"items\": "
		"{\"type\": \"object\", \"required\": [\"id\", \"keywords\", \"ne"
		"xt\"], \"additionalProperties\": false, \"properties\": {\"id\":"
		" {\"description\": \"The intent's name, unique: 1 to 32 letters,"
		" digits, _ or -.\", \"type\": \"string\", \"pattern\": \"^[A-Za-"
		"z0-9_-]{1,32}$(?!\\\\n)\"}, \"keywords\": {\"description\": \"On"
		"e list for every language, or one per language with \\\"default"
		"\\\" as for texts.\", \"oneOf\": [{\"$ref\": \"#/$defs/keywords"
		"\"}, {\"type\": \"object\", \"propertyNames\": {\"anyOf\": [{\"c"
		"onst\": \"default\"}, {\"$ref\": \"#/$defs/languageCode\"}]}, \""
		"properties\": {\"default\": {\"$ref\": \"#/$defs/languageCode\"}"
		"}, \"additionalProperties\": {\"$ref\": \"#/$defs/keywords\"}, "
		"\"if\": {\"required\": [\"default\"]}, \"then\": {\"minPropertie"
		"s\": 2}, \"else\": {\"minProperties\": 1}}]}, \"priority\": {\"d"
		"escription\": \"The higher wins when several intents match (defa"
		"ult 0; the first listed on a tie).\", \"type\": \"integer\", \"m"
		"inimum\": -1000, \"maximum\": 1000}, \"cooldown\": {\"allOf\": ["
		"{\"$ref\": \"#/$defs/duration\"}], \"description\": \"After firi"
		"ng for a chat, the intent is passed over for that chat this long"
		".\"}, \"next\": {\"allOf\": [{\"$ref\": \"#/$defs/nodeRef\"}], "
		"\"description\": \"The node the intent leads to.\"}}}}" },
	{ "keywords",
		"{\"description\": \"Keywords: words or phrases (whole words, any"
		" case; a space matches any run of whitespace), each at most 64 b"
		"ytes with a letter or digit.\", \"type\": \"array\", \"minItems"
		"\": 1, \"maxItems\": 64, \"items\": {\"type\": \"string\", \"min"
		"Length\": 1, \"maxLength\": 64, \"pattern\": \"^[^\\\\u0000\\\\t"
		"\\\\n\\\\r]*[0-9A-Za-z\\\\u0080-\\\\uffff][^\\\\u0000\\\\t\\\\n"
		"\\\\r]*$(?!\\\\n)\"}}" },
	{ NULL, NULL }
};

/* The document around $defs. */
static const char schema_top[] =
	"{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \""
	"$id\": \"https://blueflow.example/flows/flow.schema.json\", \"titl"
	"e\": \"blueflow flow\", \"description\": \"A blueflow conversation"
	" flow (docs/flows.md): the canonical form, an object of node id ->"
	" node starting at \\\"0\\\", or the extended form with \\\"nodes"
	"\\\" and settings. `blueflow check` is the authority; it also chec"
	"ks what this schema cannot: that references name existing nodes, l"
	"oops of nodes that never wait, PCRE2 syntax, lengths in bytes and "
	"UTF-16 units (the schema counts characters), node ids written as 1"
	".0, and that next_for_choice keys and \\\"default\\\" name existin"
	"g choices and languages. An extended-form flow may name this schem"
	"a in \\\"$schema\\\" for editors.\", \"type\": \"object\", \"if\":"
	" {\"required\": [\"nodes\"], \"properties\": {\"nodes\": {\"not\":"
	" {\"type\": \"object\", \"required\": [\"type\"], \"properties\": "
	"{\"type\": {\"type\": \"string\"}}}}}, \"description\": \"The exte"
	"nded form has \\\"nodes\\\": an object of nodes, not a node called"
	" \\\"nodes\\\" (which has a string \\\"type\\\").\"}, \"then\": {"
	"\"$ref\": \"#/$defs/extendedFlow\"}, \"else\": {\"$ref\": \"#/$def"
	"s/canonicalFlow\"}}";

/* A text family: NAMEString (given, or plain text of at most max
 * characters), NAMEByLanguage and NAME, either of them. what is "A button
 * label". */
struct schema_text_kind {
	const char *name;
	const char *what;
	int max;               /* 0: NAMEString is in schema_static */
};

static const struct schema_text_kind schema_texts[] = {
	{ "text", "A message text (HTML)", 0 },
	{ "labelText", "A button label", FLOW_TEXT_MAX },
	{ "buttonText", "A keyboard button label", 64 },
	{ "popupText", "A popup text", 200 },
	{ NULL, NULL, 0 }
};

static const char schema_plain_text[] =
	"{\"description\": \"%s as one string: plain text (not HTML), {{key"
	"}} inserts a saved value. Not empty or only whitespace, at most %d"
	" characters (Telegram counts UTF-16 units, so a character outside "
	"the BMP such as an emoji counts twice; this schema counts it once)"
	", no NUL.\", \"type\": \"string\", \"minLength\": 1, \"maxLength\""
	": %d, \"pattern\": \"^[^\\\\u0000]*[^\\\\u0000\\\\t\\\\n\\\\r ][^"
	"\\\\u0000]*$(?!\\\\n)\"}";

static const char schema_by_language[] =
	"{\"description\": \"%s per language, chosen by the user's Telegram"
	" language_code, e.g. {\\\"en\\\": \\\"Hello\\\", \\\"ru\\\": \\\""
	"\\u041f\\u0440\\u0438\\u0432\\u0435\\u0442\\\", \\\"default\\\": "
	"\\\"en\\\"}. \\\"default\\\" names the language used when the user"
	"'s has no text (it must be one of the languages given); without it"
	" the first language is used. At least one language is required.\","
	" \"type\": \"object\", \"propertyNames\": {\"anyOf\": [{\"const\":"
	" \"default\"}, {\"$ref\": \"#/$defs/languageCode\"}], \"descriptio"
	"n\": \"\\\"default\\\" or a language code such as \\\"en\\\" or "
	"\\\"pt-br\\\".\"}, \"properties\": {\"default\": {\"allOf\": [{\"$"
	"ref\": \"#/$defs/languageCode\"}], \"description\": \"The language"
	" used when the user's language has no text; one of the languages o"
	"f this object.\"}}, \"additionalProperties\": {\"$ref\": \"#/$defs"
	"/%sString\"}, \"if\": {\"required\": [\"default\"]}, \"then\": {\""
	"minProperties\": 2}, \"else\": {\"minProperties\": 1}}";

static void schema_text_defs(json_object *defs, const struct schema_text_kind *k)
{
	char json[2048], name[64];

	if (k->max) {
		snprintf(json, sizeof(json), schema_plain_text, k->what, k->max, k->max);
		snprintf(name, sizeof(name), "%sString", k->name);
		json_object_object_add(defs, name, json_tokener_parse(json));
	}
	snprintf(json, sizeof(json), schema_by_language, k->what, k->name);
	snprintf(name, sizeof(name), "%sByLanguage", k->name);
	json_object_object_add(defs, name, json_tokener_parse(json));
	snprintf(json, sizeof(json), "{\"description\": \"%s: a string, or an "
		"object of strings by language.\", \"anyOf\": [{\"$ref\": "
		"\"#/$defs/%sString\"}, {\"$ref\": \"#/$defs/%sByLanguage\"}]}",
		k->what, k->name, k->name);
	json_object_object_add(defs, k->name, json_tokener_parse(json));
}

/* The $defs entry each value kind refers to. */
static const char *const schema_kind_ref[] = {
	[NODE_KEY_TEXT] = "#/$defs/text",
	[NODE_KEY_BUTTON] = "#/$defs/buttonText",
	[NODE_KEY_REF] = "#/$defs/nodeRef",
	[NODE_KEY_SAVE] = "#/$defs/saveKey",
	[NODE_KEY_REGEX] = "#/$defs/regex",
};

static void schema_add_str(json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, json_object_new_string(s));
}

/* A whole number as an integer, anything else as a double. */
static json_object *schema_number(double x)
{
	if (x == (double)(long long)x)
		return json_object_new_int64((long long)x);
	return json_object_new_double(x);
}

/* {"allOf": [{"$ref": ref}]}, which may carry a description of its own. */
static json_object *schema_ref(const char *ref)
{
	json_object *o = json_object_new_object(), *all = json_object_new_array();
	json_object *r = json_object_new_object();

	schema_add_str(r, "$ref", ref);
	json_object_array_add(all, r);
	json_object_object_add(o, "allOf", all);
	return o;
}

static json_object *schema_names(const char *const *names)
{
	json_object *a = json_object_new_array();
	for (int i = 0; names[i]; i++)
		json_object_array_add(a, json_object_new_string(names[i]));
	return a;
}

/* "a, b, c" of names. */
static void schema_join(char *out, size_t size, const char *const *names)
{
	size_t n = 0;
	out[0] = '\0';
	for (int i = 0; names[i] && n < size; i++) {
		int w = snprintf(out + n, size - n, "%s%s", i ? ", " : "", names[i]);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

/* The name of a type's def: "tgUsernameNode" for tg_username. */
static void schema_def_name(char *out, size_t size, const char *type,
	const char *suffix)
{
	size_t n = 0;
	int up = 0;
	for (const char *p = type; *p && n + 1 < size; p++) {
		if (*p == '_') {
			up = 1;
			continue;
		}
		out[n++] = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
		up = 0;
	}
	out[n] = '\0';
	snprintf(out + n, size - n, "%s", suffix);
}

/* Overrides of the messages for reasons: an object of reason -> text. */
static json_object *schema_messages(const char *what, const char *const *reasons)
{
	json_object *m = json_object_new_object(), *names = json_object_new_object();
	json_object *text = json_object_new_object();
	char list[1024], desc[1400];

	schema_join(list, sizeof(list), reasons);
	snprintf(desc, sizeof(desc), "Overrides of built-in messages %s, by "
		"reason: %s. Each value is a text.", what, list);
	schema_add_str(m, "description", desc);
	schema_add_str(m, "type", "object");
	json_object_object_add(names, "enum", schema_names(reasons));
	snprintf(desc, sizeof(desc), "A message reason: one of %s.", list);
	schema_add_str(names, "description", desc);
	json_object_object_add(m, "propertyNames", names);
	schema_add_str(text, "$ref", "#/$defs/text");
	json_object_object_add(m, "additionalProperties", text);
	return m;
}

static json_object *schema_flow_messages(void)
{
	const char *all[FLOW_REASONS_MAX];
	json_object *m, *props = json_object_new_object(), *stale, *malformed;

	flow_reasons(all, FLOW_REASONS_MAX);
	m = schema_messages("for the whole flow (a node's own \"messages\" win)", all);
	stale = schema_ref("#/$defs/popupText");
	schema_add_str(stale, "description", "The popup shown when an old button "
		"is pressed: plain text, at most 200 characters.");
	json_object_object_add(props, "stale_button", stale);
	malformed = schema_ref("#/$defs/popupText");
	schema_add_str(malformed, "description", "The popup shown when a button "
		"this flow has not got is pressed (one an older version of the flow "
		"sent, or callback data not NODE|KEY): plain text, at most 200 "
		"characters.");
	json_object_object_add(props, "malformed_button", malformed);
	json_object_object_add(m, "properties", props);
	return m;
}

/* The schema of one key's value. */
static json_object *schema_key(const struct node_type *t, const struct node_key *k)
{
	json_object *o;
	char ref[96];

	switch (k->kind) {
	case NODE_KEY_TYPE:
		o = json_object_new_object();
		schema_add_str(o, "const", t->name);
		break;
	case NODE_KEY_INT:
	case NODE_KEY_NUMBER:
		o = json_object_new_object();
		schema_add_str(o, "type", k->kind == NODE_KEY_INT ? "integer" : "number");
		json_object_object_add(o, k->kind == NODE_KEY_INT ? "minimum" :
			"exclusiveMinimum", schema_number(k->min));
		json_object_object_add(o, "maximum", schema_number(k->max));
		break;
	case NODE_KEY_BOOL:
		o = json_object_new_object();
		schema_add_str(o, "type", "boolean");
		break;
	case NODE_KEY_MESSAGES:
		schema_def_name(ref, sizeof(ref), t->name, "Messages");
		memmove(ref + 8, ref, strlen(ref) + 1);
		memcpy(ref, "#/$defs/", 8);
		o = schema_ref(ref);
		break;
	case NODE_KEY_CUSTOM:
		o = json_tokener_parse(k->schema ? k->schema : "{}");
		if (o == NULL)
			o = json_object_new_object();
		break;
	default:
		o = schema_ref(schema_kind_ref[k->kind]);
		break;
	}
	schema_add_str(o, "description", k->desc);
	return o;
}

/* The def of one node type: its keys, which are required, which need
 * which, and what its schema() hook adds. */
static json_object *schema_node(json_object *defs, const struct node_type *t)
{
	json_object *def = json_object_new_object(), *req = json_object_new_array();
	json_object *props = json_object_new_object(), *deps = json_object_new_object();
	int n_deps = 0, ki = 0;

	schema_add_str(def, "description", t->summary);
	schema_add_str(def, "type", "object");
	json_object_object_add(def, "required", req);
	json_object_object_add(def, "properties", props);
	for (const struct node_key *k = node_key_at(t, 0); k;
	     k = node_key_at(t, (unsigned)(++ki))) {
		json_object_object_add(props, k->name, schema_key(t, k));
		if (k->hint)
			json_object_array_add(req, json_object_new_string(k->name));
		if (k->needs) {
			json_object *a = json_object_new_array();
			json_object_array_add(a, json_object_new_string(k->needs));
			json_object_object_add(deps, k->name, a);
			n_deps++;
		}
	}
	json_object_object_add(def, "additionalProperties", json_object_new_boolean(0));
	if (n_deps)
		json_object_object_add(def, "dependentRequired", deps);
	else
		json_object_put(deps);
	if (t->schema)
		t->schema(defs, def);
	return def;
}

/* "node": an object whose "type" picks the def of its type. */
static json_object *schema_dispatch(void)
{
	const struct node_type *const *types = node_types();
	json_object *node = json_object_new_object(), *props = json_object_new_object();
	json_object *type = json_object_new_object(), *names = json_object_new_array();
	json_object *all = json_object_new_array();
	char list[512], desc[700], rule[512], def[96];

	node_type_list(list, sizeof(list));
	snprintf(desc, sizeof(desc), "A node: an object whose \"type\" (one of "
		"%s) decides which keys it takes.", list);
	schema_add_str(node, "description", desc);
	schema_add_str(node, "type", "object");
	json_object_object_add(node, "required", json_tokener_parse("[\"type\"]"));
	snprintf(desc, sizeof(desc), "The node type: %s.", list);
	schema_add_str(type, "description", desc);
	for (int i = 0; types[i]; i++) {
		json_object_array_add(names, json_object_new_string(types[i]->name));
		schema_def_name(def, sizeof(def), types[i]->name, "Node");
		snprintf(rule, sizeof(rule), "{\"if\": {\"properties\": {\"type\": "
			"{\"const\": \"%s\"}}, \"required\": [\"type\"]}, \"then\": "
			"{\"$ref\": \"#/$defs/%s\"}}", types[i]->name, def);
		json_object_array_add(all, json_tokener_parse(rule));
	}
	json_object_object_add(type, "enum", names);
	json_object_object_add(props, "type", type);
	json_object_object_add(node, "properties", props);
	json_object_object_add(node, "allOf", all);
	return node;
}

/* The settings of time into extendedFlow's properties; inactive_after
 * and on_inactive need each other. */
static void schema_add_flow_time(json_object *defs)
{
	json_object *flow, *props;
	if (!json_object_object_get_ex(defs, "extendedFlow", &flow) ||
	    !json_object_object_get_ex(flow, "properties", &props))
		return;
	for (int i = 0; schema_flow_time[i].name; i++)
		json_object_object_add(props, schema_flow_time[i].name,
			json_tokener_parse(schema_flow_time[i].json));
	json_object_object_add(flow, "dependentRequired", json_tokener_parse(
		"{\"inactive_after\": [\"on_inactive\"], \"on_inactive\": "
		"[\"inactive_after\"]}"));
	json_object_object_add(props, schema_flow_intents[0].name,
		json_tokener_parse(schema_flow_intents[0].json));
	json_object_object_add(defs, schema_flow_intents[1].name,
		json_tokener_parse(schema_flow_intents[1].json));
}

json_object *schema_build(void)
{
	const struct node_type *const *types = node_types();
	json_object *root = json_tokener_parse(schema_top);
	json_object *defs = json_object_new_object();
	char name[96], what[160];

	if (root == NULL || defs == NULL) {
		json_object_put(root);
		json_object_put(defs);
		return NULL;
	}
	for (int i = 0; schema_static[i].name; i++)
		json_object_object_add(defs, schema_static[i].name,
			json_tokener_parse(schema_static[i].json));
	for (int i = 0; schema_texts[i].name; i++)
		schema_text_defs(defs, &schema_texts[i]);
	for (int i = 0; types[i]; i++) {
		if (types[i]->reasons == NULL)
			continue;
		schema_def_name(name, sizeof(name), types[i]->name, "Messages");
		snprintf(what, sizeof(what), "of a %s node", types[i]->name);
		json_object_object_add(defs, name, schema_messages(what, types[i]->reasons));
	}
	json_object_object_add(defs, "flowMessages", schema_flow_messages());
	schema_add_flow_time(defs);
	for (int i = 0; types[i]; i++) {
		schema_def_name(name, sizeof(name), types[i]->name, "Node");
		json_object_object_add(defs, name, schema_node(defs, types[i]));
	}
	json_object_object_add(defs, "node", schema_dispatch());
	json_object_object_add(root, "$defs", defs);
	return root;
}

/* --- the reference in docs/flows.md --- */

/* What a key's value is, in words. */
static void schema_doc_value(const struct node_type *t, const struct node_key *k,
	char *out, size_t size)
{
	size_t n;

	static const char *const words[] = {
		[NODE_KEY_TEXT] = "text",
		[NODE_KEY_BUTTON] = "button label (plain text, at most 64 characters)",
		[NODE_KEY_REF] = "node id",
		[NODE_KEY_SAVE] = "name: letters, digits, `_`",
		[NODE_KEY_BOOL] = "`true` or `false`",
		[NODE_KEY_REGEX] = "PCRE2 pattern, matching the whole value",
		[NODE_KEY_MESSAGES] = "reason → text",
	};

	if (k->kind == NODE_KEY_TYPE)
		snprintf(out, size, "`\"%s\"`", t->name);
	else if (k->kind == NODE_KEY_INT)
		snprintf(out, size, "whole number, %g–%g", k->min, k->max);
	else if (k->kind == NODE_KEY_NUMBER)
		snprintf(out, size, "number, more than %g, at most %g", k->min, k->max);
	else if (k->kind == NODE_KEY_CUSTOM)
		snprintf(out, size, "%s", k->doc ? k->doc : "see below");
	else
		snprintf(out, size, "%s", words[k->kind]);
	n = strlen(out);
	if (k->has_def && k->kind == NODE_KEY_BOOL && n < size)
		n += (size_t)snprintf(out + n, size - n, "; default `%s`",
			k->def != 0 ? "true" : "false");
	else if (k->has_def && n < size)
		n += (size_t)snprintf(out + n, size - n, "; default %g", k->def);
	if (k->needs && n < size)
		snprintf(out + n, size - n, "; needs `%s`", k->needs);
}

/* Writes s for a Markdown table cell: '|' would end the cell. */
static void schema_cell(FILE *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', o);
		fputc(*s, o);
	}
}

void schema_markdown(FILE *o)
{
	const struct node_type *const *types = node_types();
	char value[256];

	for (int i = 0; types[i]; i++) {
		const struct node_type *t = types[i];
		int ki = 0;
		fprintf(o, "%s### `%s`\n\n%s %s\n\n", i ? "\n" : "", t->name,
			t->summary, t->waits ? "It waits for the user." :
			"It never waits for the user.");
		fputs("| key | value | required | meaning |\n| --- | --- | --- | --- |\n", o);
		for (const struct node_key *k = node_key_at(t, 0); k;
	     k = node_key_at(t, (unsigned)(++ki))) {
			schema_doc_value(t, k, value, sizeof(value));
			fprintf(o, "| `%s` | ", k->name);
			schema_cell(o, value);
			fprintf(o, " | %s | ", k->hint ? "yes" : "no");
			schema_cell(o, k->desc);
			fputs(" |\n", o);
		}
		if (t->reasons) {
			fputs("\nRe-prompt reasons, for `messages`: ", o);
			for (int r = 0; t->reasons[r]; r++)
				fprintf(o, "%s`%s`", r ? ", " : "", t->reasons[r]);
			fputs(".\n", o);
		}
	}
}
