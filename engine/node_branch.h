/* node_branch.h - the data of a branch node, for the engine. */
#ifndef BLUEFLOW_NODE_BRANCH_H
#define BLUEFLOW_NODE_BRANCH_H

enum branch_op {
	BRANCH_EQUALS, BRANCH_ONE_OF, BRANCH_MATCHES, BRANCH_EXISTS,
	BRANCH_LT, BRANCH_LE, BRANCH_GT, BRANCH_GE
};

struct branch_cond {
	const char *key;           /* saved value, or a built-in like user.language_code */
	enum branch_op op;
	const char *str;           /* equals: the value as text; matches: the pattern */
	double num;                /* lt/le/gt/ge, and equals when is_num */
	int is_num;
	const char *const *set;    /* one_of */
	unsigned n_set;
	const void *re;            /* matches: pcre2_code */
	int exists;                /* exists: true or false */
	int next;
};

struct branch_data {
	struct branch_cond *conds;
	unsigned n;
	int else_next;
};

#endif
