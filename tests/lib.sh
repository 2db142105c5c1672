# tests/lib.sh - helpers for the shell tests. Source it, call the checks,
# end with `finish`. Each check prints "ok NAME" or "FAIL NAME: why".
# BLUEFLOW (the binary) and SRCDIR (the source tree) come from make check.

: "${BLUEFLOW:?run through make check, or set BLUEFLOW}"
: "${SRCDIR:?run through make check, or set SRCDIR}"
T_PASS=0
T_FAIL=0
T_AT_EXIT=	# "PID COMMAND" lines, newest first, for t_cleanup
T_TRAPS=	# the pid of the process whose traps run t_cleanup

# at_exit COMMAND: runs COMMAND (through eval) when this process exits, or
# on HUP/INT/TERM (then exiting 129/130/143). Commands run newest first, each
# at most once, and only in the process that registered it: a subshell
# inherits its parent's list but not its traps, so the first at_exit in a
# subshell sets the subshell's own traps and its exit runs only its own
# commands. Harnesses (tests/pg_lib.sh, tests/nginx_lib.sh) use it to stop what they
# started; a test can use it for its own background processes.
at_exit() {
	t__me=$(exec sh -c 'echo $PPID')
	if [ "$T_TRAPS" != "$t__me" ]; then
		T_TRAPS=$t__me
		trap 't_cleanup' EXIT
		trap 't_cleanup; trap - EXIT; exit 129' HUP
		trap 't_cleanup; trap - EXIT; exit 130' INT
		trap 't_cleanup; trap - EXIT; exit 143' TERM
	fi
	T_AT_EXIT="$t__me $1
$T_AT_EXIT"
}

# $(exec sh -c 'echo $PPID') is the pid of the current (sub)shell, whereas $$
# is the main shell's even in a subshell. The exec matters: the substitution's
# child must become that sh, not fork it.

# t_cleanup: runs this process's at_exit commands now, newest first, and
# forgets them. The traps call it; calling it twice is harmless.
t_cleanup() {
	t__me=$(exec sh -c 'echo $PPID')
	t__rest=$T_AT_EXIT
	t__keep=
	while [ -n "$t__rest" ]; do
		t__line=${t__rest%%"
"*}
		t__rest=${t__rest#*"
"}
		if [ "${t__line%% *}" = "$t__me" ]; then
			# Forget it first, so that it runs once even if it fails.
			T_AT_EXIT="$t__keep$t__rest"
			eval "${t__line#* }" || :
		else
			t__keep="$t__keep$t__line
"
		fi
	done
}

T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/blueflow-test.XXXXXX")
at_exit 'rm -rf "$T_TMP"'

ok() { T_PASS=$((T_PASS + 1)); echo "ok $1"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL $1: $2"; }

# run CMD...: runs a command, keeping its status in RC and its output in
# $T_TMP/out and $T_TMP/err.
run() {
	"$@" >"$T_TMP/out" 2>"$T_TMP/err"
	RC=$?
}

# expect NAME STATUS: the last run exited with STATUS.
expect_rc() {
	if [ "$RC" -eq "$2" ]; then ok "$1"; else
		fail "$1" "exit $RC, wanted $2; stderr: $(head -c 600 "$T_TMP/err")"
	fi
}

# expect_err NAME TEXT: the last run's stderr contains TEXT.
expect_err() {
	if grep -qF -- "$2" "$T_TMP/err"; then ok "$1"; else
		fail "$1" "stderr lacks '$2'; it was: $(head -c 600 "$T_TMP/err")"
	fi
}

# expect_out NAME TEXT: the last run's stdout contains TEXT.
expect_out() {
	if grep -qF -- "$2" "$T_TMP/out"; then ok "$1"; else
		fail "$1" "stdout lacks '$2'; it was: $(head -c 600 "$T_TMP/out")"
	fi
}

# expect_lines NAME FILE N: FILE has exactly N lines.
expect_lines() {
	n=$(wc -l <"$2")
	if [ "$n" -eq "$3" ]; then ok "$1"; else
		fail "$1" "$n lines, wanted $3: $(head -c 600 "$2")"
	fi
}

# need_tools COMMAND...: ends the test as skipped (exit 77) when one of
# the commands is not installed.
need_tools() {
	for t__tool in "$@"; do
		if ! command -v "$t__tool" >/dev/null 2>&1; then
			echo "skip: no $t__tool"
			exit 77
		fi
	done
}

# alive PID: PID runs (a zombie, exited but not yet waited for, does not).
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	case $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) in Z*|X*|'') return 1 ;; esac
	return 0
}

# wait_for FILE TEXT: FILE contains TEXT, within 10 s.
wait_for() {
	t__end=$(($(date +%s) + 10))
	until grep -qF -- "$2" "$1" 2>/dev/null; do
		[ "$(date +%s)" -lt "$t__end" ] || return 1
		sleep 0.05 2>/dev/null || sleep 1
	done
}

# port_busy PORT: something listens on PORT over TCP (on any address).
# A server's start-up waits for it; free_port skips such ports.
port_busy() {
	t__hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v p=":$t__hex" 'substr($2, length($2) - 4) == p && $4 == "0A" { f = 1 }
			END { exit !f }'
}

# free_port OFFSET [TAKEN]: a free TCP port in 20000-29999 (below the
# ephemeral range), searched upwards from 20000 + (pid + OFFSET) % 10000:
# the pid sets parallel tests apart, OFFSET the servers of one test (the
# harnesses use 0 for PostgreSQL, 2500 for Apache, 5000 for nginx). TAKEN,
# a command, rules out more ports: `TAKEN PORT` succeeds for one in use.
free_port() {
	t__p=$((20000 + ($$ + $1) % 10000))
	t__n=0
	while { port_busy "$t__p" || { [ -n "${2:-}" ] && "$2" "$t__p"; }; } &&
		[ "$t__n" -lt 10000 ]; do
		t__p=$((t__p + 1))
		[ "$t__p" -lt 30000 ] || t__p=20000
		t__n=$((t__n + 1))
	done
	echo "$t__p"
}

# secret VALUE: a bot token or webhook secret the test uses. finish checks
# that no file the test leaves holds it: everything under T_TMP and the
# folders harnesses add with log_dir (nginx's, Apache's, PostgreSQL's
# logs), but the fake Bot API's own records, calls.jsonl and fake.* (it
# plays Telegram, which sees tokens). Run by every test, this is the
# suite's check that a token reaches no log line.
T_SECRETS=
T_LOG_DIRS=
secret() { T_SECRETS="$T_SECRETS$1
"; }
log_dir() { T_LOG_DIRS="$T_LOG_DIRS $1"; }

t_secrets() {
	[ -n "$T_SECRETS" ] || return 0
	t__hits=$(printf '%s' "$T_SECRETS" | while IFS= read -r t__s; do
		# shellcheck disable=SC2086 # T_LOG_DIRS is a list
		grep -rlF --exclude=calls.jsonl --exclude="fake.*" -e "$t__s" \
			"$T_TMP" $T_LOG_DIRS 2>/dev/null
	done | sort -u)
	if [ -z "$t__hits" ]; then ok secrets-in-no-log; else
		fail secrets-in-no-log "a token or secret is in: $t__hits"; fi
}

finish() {
	t_secrets
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}
