# tests/botapi_lib.sh - starts tests/fake_botapi.py for a test (source it
# after tests/lib.sh). botapi_start TOKEN: the fake on a free loopback
# port, logging calls to $T_TMP/calls.jsonl, stopped when the test exits;
# sets API (its base URL) and PORT. botapi_ctl NAME [JSON]: its control API.

BOTAPI_PY=$SRCDIR/tests/fake_botapi.py

botapi_start() {
	python3 "$BOTAPI_PY" --port 0 --token "$1" --log "$T_TMP/calls.jsonl" \
		--parent $$ --lifetime 300 >"$T_TMP/fake.out" 2>&1 &
	b__pid=$!
	at_exit "kill $b__pid 2>/dev/null; wait $b__pid 2>/dev/null"
	b__i=0
	while ! grep -qs '^ready ' "$T_TMP/fake.out" && [ $b__i -lt 100 ]; do
		sleep 0.1
		b__i=$((b__i + 1))
	done
	PORT=$(sed -n 's/^ready \([0-9]*\).*/\1/p' "$T_TMP/fake.out")
	API=http://127.0.0.1:$PORT
	FAKE=$b__pid
	[ -n "$PORT" ]
}

botapi_ctl() { python3 "$BOTAPI_PY" ctl "$API" "$@" >/dev/null; }
