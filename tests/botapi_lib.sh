# tests/botapi_lib.sh - starts tests/fake_botapi.py for a test (source it
# after tests/lib.sh). botapi_start TOKEN: the fake on a free loopback
# port, logging calls to $T_TMP/calls.jsonl, stopped when the test exits;
# TOKEN becomes one of the test's secrets; sets API (its base URL), PORT
# and FAKE (its pid), and checks "fake-started": when the fake does not
# start, the test ends there, failed. BOTAPI_ARGS: more of the fake's
# options (e.g. its --limit ones). botapi_ctl NAME [JSON]: its control
# API. botapi_calls METHOD TEXT: how many METHOD calls the fake logged
# whose params contain TEXT.

BOTAPI_PY=$SRCDIR/tests/fake_botapi.py

botapi_start() {
	secret "$1"
	# shellcheck disable=SC2086 # options, split
	python3 "$BOTAPI_PY" --port 0 --token "$1" --log "$T_TMP/calls.jsonl" \
		--parent $$ --lifetime 300 ${BOTAPI_ARGS:-} >"$T_TMP/fake.out" 2>&1 &
	b__pid=$!
	at_exit "kill $b__pid 2>/dev/null; wait $b__pid 2>/dev/null"
	wait_for "$T_TMP/fake.out" "ready "
	PORT=$(sed -n 's/^ready \([0-9]*\).*/\1/p' "$T_TMP/fake.out")
	API=http://127.0.0.1:$PORT
	FAKE=$b__pid
	if [ -z "$PORT" ]; then
		fail fake-started "$(cat "$T_TMP/fake.out")"
		finish
		exit 1
	fi
	ok fake-started
}

botapi_ctl() { python3 "$BOTAPI_PY" ctl "$API" "$@" >/dev/null; }

botapi_calls() { python3 - "$T_TMP/calls.jsonl" "$1" "$2" <<'PY'
import json, sys
print(sum(1 for c in map(json.loads, open(sys.argv[1]))
          if c["method"] == sys.argv[2] and sys.argv[3] in json.dumps(c["params"])))
PY
}
