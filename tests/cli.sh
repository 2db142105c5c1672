#!/bin/sh
# tests/cli.sh - the blueflow command line: help, version, usage errors,
# and `blueflow check` on files that are not flows at all.
. "$SRCDIR/tests/lib.sh"
cd "$SRCDIR" || exit 1

run "$BLUEFLOW" --help
expect_rc help-exit 0
expect_out help-lists-check "check"
run "$BLUEFLOW" --version
expect_rc version-exit 0
expect_out version-text "blueflow "
run "$BLUEFLOW"
expect_rc no-command 2
run "$BLUEFLOW" frobnicate
expect_rc unknown-command 2
expect_err unknown-command-says "unknown command \"frobnicate\""
run "$BLUEFLOW" check
expect_rc check-no-file 2
run "$BLUEFLOW" check --bogus flows/seed_example.json
expect_rc check-bad-option 2
run "$BLUEFLOW" check --help
expect_rc check-help 0
expect_out check-help-example "blueflow check flows/*.json"

# Every shipped flow is valid, and says so on stdout.
run "$BLUEFLOW" check flows/*.json
expect_rc shipped-flows-valid 0
expect_out seed-ok "flows/seed_example.json: ok: 5 nodes"

# Files that are no flow: one clear error each, exit 1, no crash.
run "$BLUEFLOW" check "$T_TMP/nope.json"
expect_rc missing-file 1
expect_err missing-file-says "nope.json: /: schema: cannot open: No such file or directory"
expect_lines missing-file-one-line "$T_TMP/err" 1

mkdir "$T_TMP/dir.json"
run "$BLUEFLOW" check "$T_TMP/dir.json"
expect_rc directory 1
expect_err directory-says "is a directory"
expect_lines directory-one-line "$T_TMP/err" 1

: >"$T_TMP/empty.json"
run "$BLUEFLOW" check "$T_TMP/empty.json"
expect_rc empty-file 1
expect_err empty-file-says "file is empty"
expect_lines empty-one-line "$T_TMP/err" 1

printf '  \n\t\n' >"$T_TMP/blank.json"
run "$BLUEFLOW" check "$T_TMP/blank.json"
expect_rc blank-file 1
expect_err blank-file-says "file is empty"

head -c 52428800 /dev/zero | tr '\0' ' ' >"$T_TMP/big.json"
run "$BLUEFLOW" check "$T_TMP/big.json"
expect_rc big-file 1
expect_err big-file-says "file is 52428800 bytes; the limit is 4194304 bytes"
expect_lines big-one-line "$T_TMP/err" 1

awk 'BEGIN { for (i = 0; i < 10000; i++) printf "["; for (i = 0; i < 10000; i++) printf "]" }' >"$T_TMP/deep.json"
run "$BLUEFLOW" check "$T_TMP/deep.json"
expect_rc deep-array 1
expect_err deep-array-says "nested deeper than 64 levels"
expect_lines deep-array-one-line "$T_TMP/err" 1

awk 'BEGIN { for (i = 0; i < 10000; i++) printf "{\"a\":"; printf "1"; for (i = 0; i < 10000; i++) printf "}" }' >"$T_TMP/deep-obj.json"
run "$BLUEFLOW" check "$T_TMP/deep-obj.json"
expect_rc deep-object 1
expect_err deep-object-says "nested deeper than 64 levels"

printf '{"0": {"type": "cutscene", "node_text": "\377\376"}}' >"$T_TMP/utf8.json"
run "$BLUEFLOW" check "$T_TMP/utf8.json"
expect_rc bad-utf8 1
expect_err bad-utf8-says "schema: not valid JSON"

head -c 4096 /dev/urandom >"$T_TMP/noise.json"
run "$BLUEFLOW" check "$T_TMP/noise.json"
expect_rc binary-noise 1
expect_lines binary-noise-one-line "$T_TMP/err" 1

# Several files: every problem of every file in one run; exit 1 if any is bad.
printf '{"0": {"type": "text", "node_text": "x"}}' >"$T_TMP/two.json"
run "$BLUEFLOW" check flows/seed_example.json "$T_TMP/empty.json" "$T_TMP/two.json"
expect_rc several-files 1
expect_out several-files-valid-reported "flows/seed_example.json: ok"
expect_err several-files-first "empty.json: /: schema: file is empty"
expect_err several-files-next "two.json: /0: node-schema: missing \"next\""
expect_err several-files-key "two.json: /0: node-schema: missing \"key_to_save\""

# -q drops warnings and the ok lines.
printf '{"0": {"type": "cutscene", "node_text": "Hi", "next": "b"}, "1": {"type": "cutscene", "node_text": "x"},
 "b": {"type": "branch", "conditions": [{"key": "topik", "exists": true, "next": "e"}], "else": "e"},
 "e": {"type": "cutscene", "node_text": "Bye"}}' >"$T_TMP/warn.json"
run "$BLUEFLOW" check "$T_TMP/warn.json"
expect_rc warnings-only-valid 0
expect_err warning-unreachable "warn.json: /1: warning: unreachable:"
expect_err warning-condition "warn.json: /b/conditions/0/key: warning: condition: no node saves \"topik\""
run "$BLUEFLOW" check -q "$T_TMP/warn.json"
expect_rc quiet-valid 0
expect_lines quiet-no-stderr "$T_TMP/err" 0
expect_lines quiet-no-stdout "$T_TMP/out" 0

# a template naming a key no node saves is an error (it would render empty)
printf '{"0": {"type": "cutscene", "node_text": "{{nobody}} {{state.nobody}}"}}' >"$T_TMP/tmpl.json"
run "$BLUEFLOW" check "$T_TMP/tmpl.json"
expect_rc template-unknown-invalid 1
expect_err template-unknown-error "tmpl.json: /0/node_text: template: {{nobody}} names a key no node saves"

# check -c CONF: the config and every flow it names, exit 0/1, as nginx -t.
printf '[server]\ndb = sqlite:%s/c.db\n\n[bot demo]\nflow = %s\ntoken_env = NOT_SET_HERE\n\n[bot other]\nflow = warn.json\ntoken_env = NOT_SET_HERE\n' \
	"$T_TMP" "$SRCDIR/flows/onboarding.json" >"$T_TMP/check.conf"
run env -u NOT_SET_HERE "$BLUEFLOW" check -c "$T_TMP/check.conf"
expect_rc check-config-ok 0
expect_out check-config-ok-says "check.conf: ok: 2 bots"
expect_out check-config-flow-ok "flows/onboarding.json: ok:"
expect_err check-config-flow-warning "warn.json: /1: warning: unreachable:"
run "$BLUEFLOW" check -q -c "$T_TMP/check.conf"
expect_rc check-config-quiet 0
expect_lines check-config-quiet-silent "$T_TMP/out" 0
sed -i "s|^flow = warn.json|flow = two.json|" "$T_TMP/check.conf"
run "$BLUEFLOW" check -c "$T_TMP/check.conf"
expect_rc check-config-bad-flow 1
expect_err check-config-bad-flow-says "two.json: /0: node-schema: missing \"key_to_save\""
sed -i "s|^\[server\]|&\nworker = 2|" "$T_TMP/check.conf"
run "$BLUEFLOW" check -c "$T_TMP/check.conf"
expect_rc check-config-bad 1
expect_err check-config-bad-says "check.conf: line 2: config: [server] unknown key \"worker\"; did you mean \"workers\"?"
run "$BLUEFLOW" check -c
expect_rc check-config-no-file 2
run "$BLUEFLOW" check --help
expect_out check-help-config "blueflow check [-q] -c blueflow.conf"

# The README's example of `blueflow check` output is the real output.
while IFS= read -r line; do
	grep -qxF -- "$line" README.md || fail readme-check-example "README lacks: $line"
done <tests/invalid/73_readme_example.expected
ok readme-check-example-checked

# blueflow serve refuses to start, with the fix in words, on the first
# mistakes people make.
conf() {
	printf '[server]\ndb = sqlite:%s/serve.db\nlisten = %s\n\n[bot demo]\nflow = %s\ntoken_env = CLI_TOKEN\n' \
		"$T_TMP" "$1" "$2" >"$T_TMP/serve.conf"
}
conf "$T_TMP/s.sock" "$SRCDIR/flows/onboarding.json"
run env -u CLI_TOKEN "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
expect_rc serve-missing-token 1
expect_err serve-missing-token-says "set the environment variable CLI_TOKEN"
conf "$T_TMP/s.sock" "$T_TMP/nowhere.json"
run env CLI_TOKEN=1:x "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
expect_rc serve-missing-flow 1
expect_err serve-missing-flow-says "nowhere.json: cannot open: No such file or directory"
conf "$T_TMP/s.sock" "$SRCDIR/tests/invalid/16_unknown_type_suggestion.json"
run env CLI_TOKEN=1:x "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
expect_rc serve-invalid-flow 1
expect_err serve-invalid-flow-says 'no node type "chioce"; did you mean "choice"?'
conf "$T_TMP/no/such/dir/s.sock" "$SRCDIR/flows/onboarding.json"
run env CLI_TOKEN=1:x "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
expect_rc serve-socket-folder-missing 1
expect_err serve-socket-folder-says "create its folder first"
# (ready is written once it listens: a socket file that is bound but not yet
# listening refuses connections, which serve rightly takes for a stale one)
python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); open(sys.argv[2], "w").close(); time.sleep(60)' "$T_TMP/taken.sock" "$T_TMP/taken.ready" &
taker=$!
i=0
while [ ! -e "$T_TMP/taken.ready" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
conf "$T_TMP/taken.sock" "$SRCDIR/flows/onboarding.json"
# (a timeout: on a loaded machine a serve that wrongly starts must not hang the test)
run env CLI_TOKEN=1:x timeout 20 "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
expect_rc serve-socket-taken 1
expect_err serve-socket-taken-says "another server is already listening there"
kill "$taker" 2>/dev/null
if [ "$(id -u)" -ne 0 ]; then
	conf "127.0.0.1:443" "$SRCDIR/flows/onboarding.json"
	run env CLI_TOKEN=1:x "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
	expect_rc serve-port-443 1
	expect_err serve-port-443-says "ports below 1024 need root"
fi
conf "$T_TMP/s.sock" "$SRCDIR/flows/onboarding.json"
printf 'encryption_key_env = CLI_KEY\n' >>"$T_TMP/serve.conf"
sed -i 's/^\[bot demo\]/encryption_key_env = CLI_KEY\n\n[bot demo]/; $d' "$T_TMP/serve.conf"
run env CLI_TOKEN=1:x CLI_KEY=short "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
expect_rc serve-bad-key 1
expect_err serve-bad-key-says "64 hex digits or 44 base64 characters"

# blueflow try: a scripted author session through the seed flow.
printf 'hi\n:press og\n:press go\nfour words are enough\n:voice 70\n:voice 20\n:file application/msword 10\n:file application/pdf 1000\n:state\n' >"$T_TMP/try.in"
run sh -c "\"$BLUEFLOW\" try flows/seed_example.json <\"$T_TMP/try.in\""
expect_rc try-exit 0
expect_out try-keyboard "[go] Let's go!"
expect_out try-reprompt "Please choose one of the buttons."
expect_out try-no-such-key "(no button has that key here: :press a key shown in [ ])"
expect_out try-pressed "(buttons removed)"
expect_out try-voice-too-long "That voice message is too long: the limit is 60 seconds."
expect_out try-wrong-type "That file type is not accepted. Please send: application/pdf"
expect_out try-finished "Thanks for chatting!"
expect_out try-state "\"user_fact\":\"four words are enough\""
# blueflow try: timers fire on :wait; an http node calls nothing, shows its
# request and takes its answer from :http.
cat >"$T_TMP/try_http.json" <<'JSON'
{"start": "name", "nodes": {
 "name": {"type": "text", "node_text": "Your name?", "key_to_save": "name", "next": "send",
          "remind_after": 60, "reminder": "Still there?"},
 "send": {"type": "http", "url": "https://api.example.com/t?who={{name}}", "send_answers": true,
          "save": {"ticket": "/id"}, "next": "done", "on_error": "err"},
 "done": {"type": "cutscene", "node_text": "Ticket #{{ticket}}."},
 "err": {"type": "cutscene", "node_text": "That did not work."}}}
JSON
printf ':wait\nAda\nhello\n:http 200 {"id": 7}\n/start\nBob\n:http fail\n:wait\n' >"$T_TMP/try_http.in"
run sh -c "\"$BLUEFLOW\" try \"$T_TMP/try_http.json\" <\"$T_TMP/try_http.in\""
expect_rc try-http-exit 0
expect_out try-timer-armed "(timer: remind in 60 s; :wait fires it)"
expect_out try-wait-fires "Still there?"
expect_out try-http-request "(http: the bot would now call POST https://api.example.com/t?who=Ada with {\"name\":\"Ada\"};"
expect_out try-http-pending "One moment, please: we are still waiting for an answer."
expect_out try-http-answer "Ticket #7."
expect_out try-http-fail "That did not work."
expect_out try-no-timer "(no timer is pending)"
run "$BLUEFLOW" try
expect_rc try-usage 2
run "$BLUEFLOW" replay flows/seed_example.json
expect_rc replay-usage 2
run "$BLUEFLOW" replay flows/seed_example.json "$T_TMP/none.jsonl"
expect_rc replay-missing-updates 1
expect_err replay-missing-says "No such file or directory"

# The first mistakes people make with the config, the store, the storage
# folder, the flow and the port: each refused by serve (or db migrate) at
# start, exit 1, one line naming the problem and its fix.
run "$BLUEFLOW" serve -c "$T_TMP/no-such.conf" --foreground
expect_rc config-missing 1
expect_err config-missing-says 'no-such.conf: /: config: cannot open: No such file or directory; write one (see README, "Configuration") or name it with -c FILE'
run "$BLUEFLOW" db migrate -c "$T_TMP/no-such.conf"
expect_rc config-missing-migrate 1
expect_err config-missing-migrate-says "cannot open: No such file or directory; write one"
mkdir "$T_TMP/conf.d"
run "$BLUEFLOW" serve -c "$T_TMP/conf.d" --foreground
expect_rc config-directory 1
expect_err config-directory-says "conf.d: /: config: is a directory; name the config file itself with -c FILE"
conf "$T_TMP/s.sock" "$SRCDIR/flows/onboarding.json"
sed -i 's/^\[bot demo\]/worker = 4\n\n[bot demo]/' "$T_TMP/serve.conf"
run env CLI_TOKEN=1:x "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
expect_rc config-typo 1
expect_err config-typo-says '[server] unknown key "worker"; did you mean "workers"?'
expect_lines config-typo-one-line-and-verdict "$T_TMP/err" 2
sed -i 's/^worker = 4$/frobnicate = 4/' "$T_TMP/serve.conf"
run env CLI_TOKEN=1:x "$BLUEFLOW" db migrate -c "$T_TMP/serve.conf"
expect_rc config-unknown-key 1
expect_err config-unknown-key-lists '[server] unknown key "frobnicate"; the known keys are listen, workers, db,'

# A port outside 1-65535, or none: refused at start with the config line
# (a port of 99999 once bound a random port while the log said 99999).
for l in 127.0.0.1:99999 127.0.0.1: 127.0.0.1:0 localhost:http; do
	conf "$l" "$SRCDIR/flows/onboarding.json"
	run env CLI_TOKEN=1:x timeout 10 "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
	expect_rc "serve-listen-port-$l" 1
	expect_err "serve-listen-port-$l-says" "serve.conf: line 3: config: [server] listen = $l: the port must be a number from 1 to 65535"
done
conf 9000 "$SRCDIR/flows/onboarding.json"
run env CLI_TOKEN=1:x timeout 10 "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
expect_rc serve-listen-no-colon 1
expect_err serve-listen-no-colon-says "serve.conf: line 3: config: [server] listen = 9000: use a socket path"

# A bad bot name is reported once, however many keys its section has.
conf "$T_TMP/s.sock" "$SRCDIR/flows/onboarding.json"
printf '\n[bot Sales Bot]\nflow = x.json\ntoken_env = CLI_TOKEN\nusername = x\n' >>"$T_TMP/serve.conf"
run env CLI_TOKEN=1:x "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
expect_rc config-bad-bot-name 1
[ "$(grep -c 'a bot name is 1 to 32' "$T_TMP/err")" = 1 ] && ok config-bad-bot-name-once ||
	fail config-bad-bot-name-once "$(cat "$T_TMP/err")"

# The store's folder is missing, or is a file.
: >"$T_TMP/plain"
for c in no-folder:no-such-dir under-file:plain; do
	name=${c%%:*}
	db=$T_TMP/${c#*:}/x.db
	conf "$T_TMP/s.sock" "$SRCDIR/flows/onboarding.json"
	sed -i "s|^db = .*|db = sqlite:$db|" "$T_TMP/serve.conf"
	run env CLI_TOKEN=1:x "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
	expect_rc "serve-db-$name" 1
	expect_err "serve-db-$name-says" "blueflow serve: sqlite: cannot create $db:"
	expect_err "serve-db-$name-fix" "check that its folder exists and is writable"
	expect_lines "serve-db-$name-one-line" "$T_TMP/err" 1
	run "$BLUEFLOW" db migrate -c "$T_TMP/serve.conf"
	expect_rc "migrate-db-$name" 1
	expect_err "migrate-db-$name-says" "blueflow db migrate: sqlite: cannot create $db:"
	expect_err "migrate-db-$name-fix" "check that its folder exists and is writable"
done
expect_err migrate-db-under-file-why "Not a directory"

# The storage folder: made when missing (0700), refused when it cannot be.
rm -rf "$T_TMP/files"
conf "$T_TMP/no/such/dir/s.sock" "$SRCDIR/flows/onboarding.json"
run env CLI_TOKEN=1:x "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
if [ "$(stat -c %a "$T_TMP/files" 2>/dev/null)" = 700 ]; then ok serve-storage-created
else fail serve-storage-created "no $T_TMP/files 0700 after serve: $(ls -ld "$T_TMP/files" 2>&1)"; fi
storage_case() {	# NAME STORAGE TEXT
	conf "$T_TMP/s.sock" "$SRCDIR/flows/onboarding.json"
	sed -i "s|^listen = .*|&\nstorage = $2|" "$T_TMP/serve.conf"
	run env CLI_TOKEN=1:x "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
	expect_rc "serve-storage-$1" 1
	expect_err "serve-storage-$1-says" "blueflow serve: storage = $2: "
	expect_err "serve-storage-$1-fix" "$3"
	expect_lines "serve-storage-$1-one-line" "$T_TMP/err" 1
}
storage_case file "$T_TMP/plain" "is a file, not a folder; point storage at a folder"
storage_case under-file "$T_TMP/plain/files" "a part of that path is a file, not a folder"
storage_case no-parent "$T_TMP/no/files" "create its parent first (mkdir -p $T_TMP/no)"

# serve in the background says where it went: its pid, the log, pid_file.
conf "$T_TMP/bg.sock" "$SRCDIR/flows/onboarding.json"
sed -i "s|^listen = .*|&\npid_file = $T_TMP/bg.pid\nworkers = 1|" "$T_TMP/serve.conf"
env CLI_TOKEN=1:x timeout 20 "$BLUEFLOW" serve -c "$T_TMP/serve.conf" >"$T_TMP/out" 2>>"$T_TMP/bg.log"
RC=$?
bgpid=$(sed -n 's/^blueflow serve: running in the background, pid \([0-9]*\)$/\1/p' "$T_TMP/out")
expect_rc serve-background 0
[ -n "$bgpid" ] && ok serve-background-pid || fail serve-background-pid "$(cat "$T_TMP/out")"
expect_out serve-background-log "  log:   $T_TMP/bg.log"
expect_out serve-background-stop "  stop:  kill $bgpid (pid_file $T_TMP/bg.pid holds the pid)"
i=0
while [ ! -s "$T_TMP/bg.pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(cat "$T_TMP/bg.pid" 2>/dev/null)" = "$bgpid" ] && ok serve-background-pid-file ||
	fail serve-background-pid-file "$(cat "$T_TMP/bg.pid" 2>&1) vs $bgpid"
[ -n "$bgpid" ] && kill "$bgpid" 2>/dev/null
i=0
while [ -n "$bgpid" ] && kill -0 "$bgpid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
grep -q '"event":"stopped"' "$T_TMP/bg.log" && ok serve-background-logged || fail serve-background-logged "$(cat "$T_TMP/bg.log")"

# A directory given as the flow.
conf "$T_TMP/s.sock" "$T_TMP/conf.d"
run env CLI_TOKEN=1:x "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
expect_rc serve-flow-directory 1
expect_err serve-flow-directory-says "conf.d: is a directory, not a flow file"

# Permissions: as root they stop nothing, so run as nobody (setpriv or
# runuser) in a folder nobody can reach; as anyone else, as oneself.
as_user=
if [ "$(id -u)" -ne 0 ]; then
	as_user=" "
elif command -v setpriv >/dev/null 2>&1; then
	as_user="setpriv --reuid=$(id -u nobody 2>/dev/null) --regid=$(id -g nobody 2>/dev/null) --clear-groups"
elif command -v runuser >/dev/null 2>&1; then
	as_user="runuser -u nobody --"
fi
P=$(mktemp -d "${TMPDIR:-/tmp}/blueflow-cli-perm.XXXXXX")
at_exit 'chmod -R u+rwx "$P" 2>/dev/null; rm -rf "$P"'
chmod 0755 "$P"
# the build may sit where nobody cannot reach it (a clone under /root, which
# is 0700 on Debian): the checks run a copy of the binary from $P, and the
# probe runs it the way prun does (setpriv itself may still pass /root)
PBIN=$P/blueflow
cp "$BLUEFLOW" "$PBIN" && chmod 0755 "$PBIN"
if [ -z "$as_user" ]; then
	echo "skip permission checks: running as root without setpriv or runuser"
elif ! $as_user env "$PBIN" --version >/dev/null 2>&1; then
	echo "skip permission checks: $PBIN cannot be run by nobody (is its folder reachable?)"
elif ! $as_user test -r "$P"; then
	echo "skip permission checks: nobody cannot reach $P"
else
	mkdir "$P/rw" "$P/ro" "$P/files-ro"
	cp "$SRCDIR/flows/onboarding.json" "$P/flow.json"
	chmod 0644 "$P/flow.json"
	[ "$(id -u)" -eq 0 ] && chown nobody "$P/rw"
	chmod 0777 "$P/rw"
	chmod 0555 "$P/ro" "$P/files-ro"
	pconf() {	# DB STORAGE FLOW LISTEN
		printf '[server]\ndb = sqlite:%s\nstorage = %s\nlisten = %s\n\n[bot demo]\nflow = %s\ntoken_env = CLI_TOKEN\n' \
			"$1" "$2" "${4:-$P/rw/s.sock}" "$3" >"$P/p.conf"
		chmod 0644 "$P/p.conf"
	}
	prun() {
		run $as_user env CLI_TOKEN=1:x timeout 20 "$PBIN" "$@"
	}
	# (the folder is read-only)
	pconf "$P/ro/x.db" "$P/rw/files" "$P/flow.json"
	prun serve -c "$P/p.conf" --foreground
	expect_rc perm-serve-db-folder 1
	expect_err perm-serve-db-folder-says "sqlite: cannot create $P/ro/x.db: Permission denied; check that its folder exists and is writable"
	prun db migrate -c "$P/p.conf"
	expect_rc perm-migrate-db-folder 1
	expect_err perm-migrate-db-folder-says "sqlite: cannot create $P/ro/x.db: Permission denied; check that its folder exists and is writable"
	# (the database file exists, read-only: SQLite would open it read-only
	# and every update would fail)
	"$BLUEFLOW" db migrate --db "sqlite:$P/rw/ro.db" >/dev/null
	chmod 0644 "$P/rw/ro.db"
	[ "$(id -u)" -eq 0 ] || chmod 0444 "$P/rw/ro.db"
	pconf "$P/rw/ro.db" "$P/rw/files" "$P/flow.json"
	prun serve -c "$P/p.conf" --foreground
	expect_rc perm-serve-db-file 1
	expect_err perm-serve-db-file-says "db = sqlite:$P/rw/ro.db: the file is not writable by this user"
	expect_err perm-serve-db-file-fix "chown it to the user blueflow runs as"
	# (storage: cannot be made, or is read-only; both reported with the db's)
	pconf "$P/ro/x.db" "$P/ro/files" "$P/flow.json"
	prun serve -c "$P/p.conf" --foreground
	expect_rc perm-serve-storage-create 1
	expect_err perm-serve-storage-create-says "storage = $P/ro/files: cannot create the attachments folder: Permission denied; create it and chown it to the user blueflow runs as"
	pconf "$P/rw/ok.db" "$P/files-ro" "$P/flow.json"
	prun serve -c "$P/p.conf" --foreground
	expect_rc perm-serve-storage-readonly 1
	expect_err perm-serve-storage-readonly-says "storage = $P/files-ro: the attachments folder is not writable by this user"
	expect_lines perm-serve-storage-readonly-one-line "$T_TMP/err" 1
	pconf "$P/rw/ro.db" "$P/files-ro" "$P/flow.json"
	prun serve -c "$P/p.conf" --foreground
	expect_rc perm-serve-two-problems 1
	expect_lines perm-serve-two-problems-two-lines "$T_TMP/err" 2
	# (the flow, and the config, are unreadable)
	cp "$P/flow.json" "$P/secret-flow.json"
	chmod 0000 "$P/secret-flow.json"
	pconf "$P/rw/ok.db" "$P/rw/files" "$P/secret-flow.json"
	prun serve -c "$P/p.conf" --foreground
	expect_rc perm-serve-flow 1
	expect_err perm-serve-flow-says "[bot demo]: config: flow = $P/secret-flow.json: cannot open: Permission denied; make it readable by the user blueflow runs as"
	chmod 0000 "$P/p.conf"
	prun serve -c "$P/p.conf" --foreground
	expect_rc perm-serve-config 1
	expect_err perm-serve-config-says "p.conf: /: config: cannot open: Permission denied; make it readable by the user blueflow runs as"
	# (a port below 1024; only where the kernel keeps them for root)
	low=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null || echo 1024)
	if [ "$(id -u)" -ne 0 ]; then
		:	# the check above without nobody covers it
	elif [ "$low" -le 443 ]; then
		echo "skip perm-serve-port-443: net.ipv4.ip_unprivileged_port_start is $low, so anyone may bind 443 here"
	else
		pconf "$P/rw/ok.db" "$P/rw/files" "$P/flow.json" 127.0.0.1:443
		prun serve -c "$P/p.conf" --foreground
		expect_rc perm-serve-port-443 1
		expect_err perm-serve-port-443-says "listen = 127.0.0.1:443: cannot bind: Permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE; let nginx take 443 and listen on a unix socket or a high port behind it)"
	fi
fi

finish
