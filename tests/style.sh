#!/bin/sh
# tests/style.sh - source rules a compiler does not enforce: no unbounded
# string functions, and every C file opens with a comment saying what it is.
. "$SRCDIR/tests/lib.sh"
cd "$SRCDIR" || exit 1

files=$(find engine cli fcgi tests bench fuzz -name '*.[ch]' | sort)
banned=$(grep -nE '(^|[^a-z_])(sprintf|vsprintf|strcpy|strcat|atoi|atol|gets)[[:space:]]*\(' $files)
if [ -z "$banned" ]; then ok no-banned-functions; else
	fail no-banned-functions "$banned"
fi

for f in $files; do
	head -n 1 "$f" | grep -q '^/\* ' || fail "opening-comment $f" "first line is not a /* comment */"
done
ok opening-comments-checked

finish
