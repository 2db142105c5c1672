#!/bin/sh
# fuzz/run.sh - runs the libFuzzer targets of a build configured with
# --enable-fuzz. From the build folder:
#   sh ../fuzz/run.sh -t 60 update flow     each target for 60 s (make fuzz-smoke)
#   sh ../fuzz/run.sh --runs 10000000 webhook   until 10 million executions
#   sh ../fuzz/run.sh -t 3600 -j 2          every target, an hour, two at once
# A long run goes about twice as fast in a build configured with
# --enable-fuzz=fast (no ASan/UBSan); replay what it finds in the
# sanitized build. fuzz/README.md has the exec/s of each target.
# Targets: update flow config tmpl html webhook botapi (all when none is
# named). -j N runs N targets at once (default: the number of cores).
# Each target keeps what it finds in fuzz/corpus/NAME (this build's),
# seeded from flows/, tests/, fuzz/seeds/NAME and
# ../shared/telegram-updates when present; a crash or a hang (a single
# input running past 10 s) leaves fuzz/artifacts/NAME/crash-* (or
# timeout-*), which `fuzz/fuzz_NAME FILE` replays. Prints one line per
# target: "fuzz NAME: N runs in S s, corpus C, ok|FAILED"; exits 1 when
# one failed.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
seconds=60
runs=
jobs=$(nproc 2>/dev/null || echo 2)
while [ $# -gt 0 ]; do
	case $1 in
	-t|--seconds) seconds=${2:?}; shift 2 ;;
	-n|--runs) runs=${2:?}; seconds=0; shift 2 ;;
	-j|--jobs) jobs=${2:?}; shift 2 ;;
	-*) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || set -- update flow config tmpl html webhook botapi
for t in "$@"; do
	[ -x "fuzz/fuzz_$t" ] || { echo "fuzz/run.sh: no fuzz/fuzz_$t here: run it in a build configured with --enable-fuzz, after make" >&2; exit 2; }
done
shared=$src/../shared/telegram-updates

# fuzz__lines DIR FILE...: every non-comment line of the files, one file each
fuzz__lines() {
	mkdir -p "$1"
	d=$1
	shift
	cat "$@" 2>/dev/null | grep -v '^#' | grep -v '^ *$' |
		awk -v d="$d" '{ f = sprintf("%s/%05d", d, NR); print > f; close(f) }'
}

# fuzz__seeds NAME: the seed folders of target NAME
fuzz__seeds() {
	s="$src/fuzz/seeds/$1"
	[ -d "$s" ] || s=
	case $1 in
	update|webhook)
		[ -d fuzz/seeds/updates ] || fuzz__lines fuzz/seeds/updates "$src"/tests/flows/*/updates.jsonl
		s="$s fuzz/seeds/updates"
		[ -d "$shared" ] && s="$s $shared" ;;
	flow) s="$s $src/flows $src/tests/flows $src/tests/invalid" ;;
	config) s="$s $src/dist" ;;
	tmpl|html) s="$s $src/flows" ;;
	esac
	echo "$s"
}

# fuzz__one NAME: runs one target; its summary line on stdout
fuzz__one() {
	n=$1
	mkdir -p "fuzz/corpus/$n" "fuzz/artifacts/$n"
	# inputs about as large as real ones: config files are small, and
	# every unknown key costs an edit distance against each known one
	case $n in
	config) len=1024 ;;
	flow) len=16384 ;;
	update|webhook) len=8192 ;;
	*) len=4096 ;;
	esac
	limit="-max_total_time=$seconds"
	[ -n "$runs" ] && limit="-runs=$runs"
	# shellcheck disable=SC2046
	"fuzz/fuzz_$n" $limit -timeout=10 -rss_limit_mb=2048 -max_len=$len \
		-close_fd_mask=2 -print_final_stats=1 \
		-artifact_prefix="fuzz/artifacts/$n/" "fuzz/corpus/$n" $(fuzz__seeds "$n") \
		>"fuzz/$n.log" 2>&1
	rc=$?
	done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "fuzz/$n.log" | tail -1)
	took=$(grep -o 'Done [0-9]* runs in [0-9]* second' "fuzz/$n.log" | tail -1 | awk '{print $5}')
	corpus=$(ls "fuzz/corpus/$n" | wc -l)
	if [ $rc -eq 0 ]; then
		echo "fuzz $n: ${done_runs:-?} runs in ${took:-?} s, corpus $corpus, ok"
	else
		echo "fuzz $n: ${done_runs:-?} runs, exit $rc, FAILED (fuzz/$n.log, fuzz/artifacts/$n/)"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|ALARM|.*deadly signal)' "fuzz/$n.log" | head -5
	fi
	[ $rc -eq 0 ]
}

failed=0
running=0
for t in "$@"; do
	fuzz__one "$t" >"fuzz/$t.summary" 2>&1 &
	running=$((running + 1))
	# $jobs at once, in rounds (every target of a round takes as long)
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait
for t in "$@"; do
	cat "fuzz/$t.summary"
	grep -q ', ok$' "fuzz/$t.summary" || failed=1
done
exit $failed
