#!/bin/sh
# tests/readme.sh - README.md says what the binary does: every JSON block
# is a valid flow (for `blueflow check` and for flows/flow.schema.json),
# every `blueflow COMMAND` it shows exists and its options are ones the
# command's --help names, and every file path it links exists.
set -u
. "$SRCDIR/tests/lib.sh"

README=$SRCDIR/README.md

# --- JSON blocks: flows
python3 - "$README" "$T_TMP" <<'PY' >"$T_TMP/blocks"
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
for n, m in enumerate(re.finditer(r"^```json\n(.*?)^```", text, re.S | re.M)):
    path = "%s/readme_%d.json" % (sys.argv[2], n)
    open(path, "w", encoding="utf-8").write(m.group(1))
    print(path)
PY
[ -s "$T_TMP/blocks" ] && ok json-blocks-found || fail json-blocks-found "no json block in README.md"
while read -r f; do
	run "$BLUEFLOW" check "$f"
	[ "$RC" = 0 ] && ok "check-$(basename "$f")" || fail "check-$(basename "$f")" "$(cat "$T_TMP/err")"
	if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
		/usr/bin/python3 - "$SRCDIR/flows/flow.schema.json" "$f" <<'PY' >"$T_TMP/why" 2>&1 &&
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))
PY
			ok "schema-$(basename "$f")" || fail "schema-$(basename "$f")" "$(tail -n 3 "$T_TMP/why")"
	fi
done <"$T_TMP/blocks"

# --- commands in code blocks and spans: `blueflow CMD [SUB] --opt ...`
python3 - "$README" <<'PY' >"$T_TMP/cmds"
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
seen = set()
blocks = re.findall(r"^ *```(?:sh|console)\n(.*?)^ *```", text, re.S | re.M)
blocks += re.findall(r"`(blueflow [^`]*)`", text.replace("\n", " "))
for block in blocks:
    for line in block.splitlines():
        line = line.split(" #")[0]
        for m in re.finditer(r"(?:^|[\s;|$(])blueflow ([a-z]+)((?: +[^\s;|)]+)*)", line):
            opts = " ".join(o for o in m.group(2).split() if o.startswith("--"))
            key = (m.group(1), opts)
            if key not in seen:
                seen.add(key)
                print(m.group(1), opts)
PY
[ "$(wc -l <"$T_TMP/cmds")" -ge 10 ] && ok commands-found || fail commands-found "$(cat "$T_TMP/cmds")"
while read -r cmd opts; do
	run "$BLUEFLOW" "$cmd" --help
	if [ "$RC" != 0 ]; then
		fail "command-$cmd" "blueflow $cmd --help: exit $RC"
		continue
	fi
	ok "command-$cmd${opts:+ $opts}"
	for o in $opts; do
		grep -qF -- "$o" "$T_TMP/out" && ok "option-$cmd$o" ||
			fail "option-$cmd$o" "blueflow $cmd --help does not mention $o"
	done
done <"$T_TMP/cmds"

# --- the replay example: the updates and the output shown are the real ones
run "$BLUEFLOW" replay --trace "$SRCDIR/flows/seed_example.json" \
	"$SRCDIR/tests/flows/readme_replay/updates.jsonl"
bad=
grep -v '^#' "$SRCDIR/tests/flows/readme_replay/updates.jsonl" | cat - "$T_TMP/out" >"$T_TMP/replay"
while IFS= read -r line; do
	grep -qxF -- "$line" "$README" || bad="$bad
$line"
done <"$T_TMP/replay"
[ "$RC" = 0 ] && [ -z "$bad" ] && ok replay-example ||
	fail replay-example "exit $RC; README lacks:$bad"

# --- links to files in the tree
python3 - "$README" <<'PY' >"$T_TMP/links"
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
for target in sorted(set(re.findall(r"\]\(([^)#:]+)\)", text))):
    print(target)
PY
while read -r l; do
	[ -e "$SRCDIR/$l" ] && ok "link-$l" || fail "link-$l" "README links to $l, which does not exist"
done <"$T_TMP/links"
# --- the update posted by hand: the README's here-document makes the body,
# its curl line's headers reach the webhook (blueflow as plain CGI, as in
# tests/cgi_lib.sh), the bot answers inline; the same message two days old
# gets the README's "too late" sentence.
python3 - "$README" "$T_TMP" <<'PY' >"$T_TMP/curl.why" 2>&1
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
block = [b for b in re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M)
         if "X-Telegram-Bot-Api-Secret-Token" in b][0]
doc = re.search(r"^cat >update\.json <<EOF\n.*?^EOF\n", block, re.S | re.M).group(0)
open(sys.argv[2] + "/make_update.sh", "w").write(doc)
curl = block[block.index("curl "):]
url = re.search(r"curl -sS (https://[^ ]*/tg/([a-z0-9_-]+))", curl)
headers = re.findall(r"-H ['\"]([A-Za-z-]+): ([^'\"]*)['\"]", curl)
assert "--data-binary @update.json" in curl, curl
with open(sys.argv[2] + "/curl.env", "w") as f:
    f.write("BOTNAME=%s\n" % url.group(2))
    for name, value in headers:
        f.write("%s\t%s\n" % (name, value))
late = re.search(r'answered\s+"(Sorry, [^"]*)"', text)
open(sys.argv[2] + "/late.txt", "w").write(" ".join(late.group(1).split()))
PY
if [ $? -ne 0 ]; then
	fail readme-update-found "$(tail -n 3 "$T_TMP/curl.why")"
else
	ok readme-update-found
	BOTNAME=$(sed -n 's/^BOTNAME=//p' "$T_TMP/curl.env")
	export ONBOARDING_TOKEN=1:readme-Token ONBOARDING_SECRET=readme-Secret_1
	secret "$ONBOARDING_TOKEN"
	secret "$ONBOARDING_SECRET"
	printf '[server]\ndb = sqlite:%s/r.db\nstorage = %s/files\napi_base = http://127.0.0.1:1\n\n[bot %s]\nflow = %s/flows/onboarding.json\ntoken_env = ONBOARDING_TOKEN\nsecret_env = ONBOARDING_SECRET\n' \
		"$T_TMP" "$T_TMP" "$BOTNAME" "$SRCDIR" >"$T_TMP/r.conf"
	# post BODY: as the curl line does, through CGI (HTTP_ + the header's name)
	post() {
		set --
		while IFS="$(printf '\t')" read -r name value; do
			case $name in BOTNAME=*) continue ;; esac
			value=$(eval "printf '%s' \"$value\"")
			if [ "$name" = Content-Type ]; then set -- "$@" "CONTENT_TYPE=$value"
			else set -- "$@" "HTTP_$(echo "$name" | tr 'a-z-' 'A-Z_')=$value"; fi
		done <"$T_TMP/curl.env"
		env GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST SCRIPT_NAME=/tg PATH_INFO="/$BOTNAME" \
			CONTENT_LENGTH="$(wc -c <"$T_TMP/update.json")" "$@" \
			"$BLUEFLOW" serve -c "$T_TMP/r.conf" <"$T_TMP/update.json" >"$T_TMP/reply" 2>>"$T_TMP/cgi.log"
	}
	(cd "$T_TMP" && sh make_update.sh)
	post
	grep -q '^Status: 200' "$T_TMP/reply" &&
		grep -q '"event":"update","bot":"'"$BOTNAME"'","update_id":1001,"chat_id":42,.*"outcome":"advanced"' "$T_TMP/cgi.log" &&
		ok readme-update-answered ||
		fail readme-update-answered "$(head -c 400 "$T_TMP/reply") $(tail -n 2 "$T_TMP/cgi.log")"
	python3 - "$T_TMP/update.json" <<'PY'
import json, sys
u = json.load(open(sys.argv[1]))
u["update_id"] += 1
u["message"]["date"] -= 2 * 86400
u["message"]["chat"]["id"] = u["message"]["from"]["id"] = 43   # nothing queued before it
json.dump(u, open(sys.argv[1], "w"))
PY
	post
	grep -qF "$(cat "$T_TMP/late.txt")" "$T_TMP/reply" && ok readme-update-too-late ||
		fail readme-update-too-late "README says \"$(cat "$T_TMP/late.txt")\"; the reply: $(head -c 400 "$T_TMP/reply")"
fi
finish
