#!/bin/sh
# tests/schema_agrees.sh - flows/flow.schema.json agrees with `blueflow
# check` on the shipped flows and on tests/invalid/ (tests/schema_agrees.py).
# Skips (77) only when Debian's python3 has no jsonschema module.
: "${SRCDIR:?run through make check, or set SRCDIR}"
PY=/usr/bin/python3
if ! [ -x "$PY" ] || ! "$PY" -c 'import jsonschema' 2>/dev/null; then
	echo "SKIP: $PY with the jsonschema module (python3-jsonschema) is needed"
	exit 77
fi
exec "$PY" "$SRCDIR/tests/schema_agrees.py" "$SRCDIR"
