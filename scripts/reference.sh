#!/bin/sh
# scripts/reference.sh BLUEFLOW - rewrites what is generated from the node
# registry: flows/flow.schema.json (`blueflow schema`) and the node
# reference in docs/flows.md (`blueflow schema --markdown`, between its
# begin and end markers). Run from the source root after changing a node
# type; tests/schema.sh fails until the committed files match.
set -eu
BLUEFLOW=${1:?usage: scripts/reference.sh PATH/TO/blueflow}
"$BLUEFLOW" schema >flows/flow.schema.json.tmp
mv flows/flow.schema.json.tmp flows/flow.schema.json
"$BLUEFLOW" schema --markdown >docs/flows.md.ref
awk -v ref=docs/flows.md.ref '
	/^<!-- begin: blueflow schema --markdown -->$/ {
		print; while ((getline line < ref) > 0) print line; skip = 1; next
	}
	/^<!-- end: blueflow schema --markdown -->$/ { skip = 0 }
	!skip { print }
' docs/flows.md >docs/flows.md.tmp
rm docs/flows.md.ref
mv docs/flows.md.tmp docs/flows.md
