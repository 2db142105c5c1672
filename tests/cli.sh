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
printf '{"0": {"type": "cutscene", "node_text": "{{nobody}}"}, "1": {"type": "cutscene", "node_text": "x"}}' >"$T_TMP/warn.json"
run "$BLUEFLOW" check "$T_TMP/warn.json"
expect_rc warnings-only-valid 0
expect_err warning-unreachable "warn.json: /1: warning: unreachable:"
expect_err warning-template "warn.json: /0/node_text: warning: template: {{nobody}}"
run "$BLUEFLOW" check -q "$T_TMP/warn.json"
expect_rc quiet-valid 0
expect_lines quiet-no-stderr "$T_TMP/err" 0
expect_lines quiet-no-stdout "$T_TMP/out" 0

# The README's example of `blueflow check` output is the real output.
while IFS= read -r line; do
	grep -qxF -- "$line" README.md || fail readme-check-example "README lacks: $line"
done <flows/invalid/73_readme_example.expected
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
conf "$T_TMP/s.sock" "$SRCDIR/flows/invalid/16_unknown_type_suggestion.json"
run env CLI_TOKEN=1:x "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
expect_rc serve-invalid-flow 1
expect_err serve-invalid-flow-says 'no node type "chioce"; did you mean "choice"?'
conf "$T_TMP/no/such/dir/s.sock" "$SRCDIR/flows/onboarding.json"
run env CLI_TOKEN=1:x "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
expect_rc serve-socket-folder-missing 1
expect_err serve-socket-folder-says "create its folder first"
python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); time.sleep(5)' "$T_TMP/taken.sock" &
taker=$!
sleep 0.5
conf "$T_TMP/taken.sock" "$SRCDIR/flows/onboarding.json"
run env CLI_TOKEN=1:x "$BLUEFLOW" serve -c "$T_TMP/serve.conf" --foreground
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
printf 'hi\n:press go\nfour words are enough\n:voice 70\n:voice 20\n:file application/msword 10\n:file application/pdf 1000\n:state\n' >"$T_TMP/try.in"
run sh -c "\"$BLUEFLOW\" try flows/seed_example.json <\"$T_TMP/try.in\""
expect_rc try-exit 0
expect_out try-keyboard "[go] Let's go!"
expect_out try-reprompt "Please choose one of the buttons."
expect_out try-pressed "(buttons removed)"
expect_out try-voice-too-long "That voice message is too long: the limit is 60 seconds."
expect_out try-wrong-type "That file type is not accepted. Please send: application/pdf"
expect_out try-finished "Thanks for chatting!"
expect_out try-state "\"user_fact\":\"four words are enough\""
run "$BLUEFLOW" try
expect_rc try-usage 2
run "$BLUEFLOW" replay flows/seed_example.json
expect_rc replay-usage 2
run "$BLUEFLOW" replay flows/seed_example.json "$T_TMP/none.jsonl"
expect_rc replay-missing-updates 1
expect_err replay-missing-says "No such file or directory"

finish
