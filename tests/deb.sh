#!/bin/sh
# tests/deb.sh - the Debian package (debian/) from install to purge, in a
# fresh Debian 12 root made by debootstrap: dpkg-buildpackage builds it
# from a clean export of the source tree (the worktree stays as it is),
# lintian finds no error and no unexplained warning, `apt-get install
# ./blueflow_*.deb` installs it with its dependencies, the sample flows
# pass `blueflow check`, the packaged config serves a conversation on
# SQLite (the pool started by hand: systemd is not PID 1 in a chroot),
# the unit is enabled and its start condition holds only once a token is
# in blueflow.env, an upgrade to a rebuilt package with a higher version
# and one more migration keeps the edited config and migrates the store,
# remove keeps the config and purge leaves nothing behind.
#
# It needs root, debootstrap, dpkg-buildpackage, debhelper, lintian,
# cgi-fcgi (libfcgi-bin) and git (sh scripts/deps.sh --test installs
# them), and Debian's archive: debootstrap and apt-get fetch from it
# ($BLUEFLOW_DEB_MIRROR, default http://deb.debian.org/debian). The
# debootstrap root is made once and kept in $BLUEFLOW_DEB_CACHE (default
# /var/cache/blueflow-test; remove it to start afresh) with the .debs apt
# fetched: about 4 minutes the first time, 2 after. BLUEFLOW_DEB_TEST=no
# skips it. It tests the committed tree plus the uncommitted changes to
# tracked files (git stash create), not new untracked files.
set -u
. "$SRCDIR/tests/lib.sh"

skip() { echo "SKIP: $1"; exit 77; }
[ "${BLUEFLOW_DEB_TEST:-yes}" != no ] || skip "BLUEFLOW_DEB_TEST=no"
# the package is built without sanitizers: once per suite is enough
[ -z "${BLUEFLOW_SANITIZED:-}" ] ||
	skip "the package is built here in the plain build only, not in the sanitized one"
[ "$(id -u)" -eq 0 ] || skip "building a root with debootstrap and chroot needs root"
for t in debootstrap dpkg-buildpackage dh lintian cgi-fcgi git chroot; do
	command -v "$t" >/dev/null 2>&1 ||
		skip "no $t (sh scripts/deps.sh --test installs debootstrap, debhelper, lintian, libfcgi-bin)"
done
git -C "$SRCDIR" rev-parse --git-dir >/dev/null 2>&1 ||
	skip "$SRCDIR is not a git checkout: the package is built from a git export"

CACHE=${BLUEFLOW_DEB_CACHE:-/var/cache/blueflow-test}
MIRROR=${BLUEFLOW_DEB_MIRROR:-http://deb.debian.org/debian}
BASE=$CACHE/bookworm-minbase
ARCH=$(dpkg --print-architecture)
START=$(date +%s)
# the root is outside T_TMP: the token in its blueflow.env is where it
# belongs, whereas finish checks that no file under T_TMP (the logs) has it
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/blueflow-deb-root.XXXXXX")
SERVE_PID=

# remove_tree DIR: unmounts what is mounted below DIR (debootstrap mounts
# /proc and /sys in the root it makes; a stopped one leaves them), then
# removes DIR; with a mount left, DIR stays rather than be removed through it
remove_tree() {
	awk -v r="$1/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount -l "$m"; done
	if awk -v r="$1/" 'index($2, r) == 1 { f = 1 } END { exit !f }' /proc/mounts; then
		echo "# $1 still has mounts; left in place"
	else
		rm -rf "$1"
	fi
}
# The chroot itself gets no mount: nothing here needs /proc or /dev beyond
# the device nodes debootstrap made.
# in_root_pids: the processes whose root is the chroot (the pool started
# by serve runs there under a subshell, so $! is not the pool's master)
in_root_pids() {
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && echo "${p#/proc/}"
	done
}
# kill_in_root: stops every process left in the chroot: TERM, then KILL
# after 5 s; false when one had to be killed
kill_in_root() {
	pids=$(in_root_pids)
	[ -n "$pids" ] || return 0
	kill $pids 2>/dev/null
	n=0
	while [ -n "$(in_root_pids)" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	pids=$(in_root_pids)
	[ -z "$pids" ] || { kill -9 $pids 2>/dev/null; return 1; }
}
cleanup_root() {
	[ -z "$SERVE_PID" ] || { kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; }
	kill_in_root
	remove_tree "$ROOT"
}
at_exit cleanup_root

# Without a root in the cache, debootstrap makes one while the packages
# build (it waits on the network, they on the CPU). setsid: its own
# process group, so that stopping the test stops all of it.
BOOT_PID=
NEW=$BASE.new.$$
boot_stop() {
	[ -z "$BOOT_PID" ] || { kill -s TERM -- "-$BOOT_PID" 2>/dev/null; wait "$BOOT_PID" 2>/dev/null; }
	BOOT_PID=
	[ ! -e "$NEW" ] || remove_tree "$NEW"
}
if [ ! -x "$BASE/bin/sh" ]; then
	echo "# debootstrap bookworm into $BASE (once; kept for later runs)"
	mkdir -p "$CACHE"
	at_exit boot_stop
	setsid debootstrap --variant=minbase bookworm "$NEW" "$MIRROR" >"$T_TMP/debootstrap.log" 2>&1 &
	BOOT_PID=$!
fi

# in_root CMD...: runs CMD in the root, as root, with a plain environment
in_root() {
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C DEBIAN_FRONTEND=noninteractive \
		chroot "$ROOT" "$@"
}

# --- the sources: v1 as it is, v2 one version and one migration later ---
# export DIR: the tree (with uncommitted changes to tracked files) in DIR
tree=$(git -C "$SRCDIR" stash create 2>/dev/null)
git -C "$SRCDIR" status --porcelain >"$T_TMP/status.before" 2>&1
export_tree() {
	mkdir -p "$1" && git -C "$SRCDIR" archive "${tree:-HEAD}" | tar -x -C "$1"
}
if ! export_tree "$T_TMP/v1/blueflow" || ! export_tree "$T_TMP/v2/blueflow"; then
	fail export "git archive failed"
	finish
	exit 1
fi
VER=$(cd "$T_TMP/v1/blueflow" && dpkg-parsechangelog -SVersion)
VER2=$VER+debtest1

# v2: the next migration number of each backend, listed last in
# Makefile.am's SQL_FILES (as a release adding one would), and a changelog
# entry with the higher version
V2=$T_TMP/v2/blueflow
last=$(ls "$V2"/sql/sqlite/ | sed -n 's/^\([0-9][0-9]*\)_.*\.sql$/\1/p' | sort -n | tail -n 1)
NEXT=$(printf '%03d' $(($(echo "$last" | sed 's/^0*//') + 1)))
MIG=${NEXT}_deb_upgrade.sql
for b in postgres sqlite; do
	echo "CREATE TABLE deb_upgrade (id INTEGER PRIMARY KEY);" >"$V2/sql/$b/$MIG"
done
awk -v m="$MIG" '
	/^SQL_FILES = / { in_list = 1 }
	in_list && !/\\$/ {
		print $0 " \\"
		print "\t$(top_srcdir)/sql/postgres/" m " \\"
		print "\t$(top_srcdir)/sql/sqlite/" m
		in_list = 0
		next
	}
	{ print }' "$V2/Makefile.am" >"$T_TMP/Makefile.am" && mv "$T_TMP/Makefile.am" "$V2/Makefile.am"
{
	printf 'blueflow (%s) unstable; urgency=medium\n\n  * Test upgrade: migration %s.\n\n' "$VER2" "$MIG"
	printf ' -- blueflow tests <tests@localhost>  %s\n\n' "$(date -R)"
	cat "$V2/debian/changelog"
} >"$T_TMP/changelog" && mv "$T_TMP/changelog" "$V2/debian/changelog"

# build DIR LOG: dpkg-buildpackage in DIR, outside the make check that may
# have started us (its jobserver, its variables), without the build's own
# tests (the suite runs them)
build() {
	(cd "$1" && unset MAKEFLAGS MFLAGS MAKELEVEL GNUMAKEFLAGS TESTS BLUEFLOW SRCDIR &&
	 DEB_BUILD_OPTIONS="nocheck parallel=$(nproc 2>/dev/null || echo 2)" \
		dpkg-buildpackage -us -uc -b) >"$2" 2>&1
}
DEB1=$T_TMP/v1/blueflow_${VER}_$ARCH.deb
DEB2=$T_TMP/v2/blueflow_${VER2}_$ARCH.deb
if build "$T_TMP/v1/blueflow" "$T_TMP/build1.log" && [ -f "$DEB1" ]; then
	ok "dpkg-buildpackage: ${DEB1##*/}"
else
	fail dpkg-buildpackage "no ${DEB1##*/}: $(tail -n 25 "$T_TMP/build1.log")"
	finish
	exit 1
fi

# --- the package itself -------------------------------------------------
# lintian: errors and warnings fail, unless debian/blueflow.lintian-overrides
# explains them; the whole output is kept in this test's log
lintian -I --pedantic --fail-on error,warning "$T_TMP/v1/blueflow_${VER}_$ARCH.changes" \
	>"$T_TMP/lintian.out" 2>&1
RC=$?
sed 's/^/# lintian: /' "$T_TMP/lintian.out"
if [ "$RC" -eq 0 ]; then ok lintian; else
	fail lintian "exit $RC: $(grep -E '^[EW]:' "$T_TMP/lintian.out" | head -n 10)"; fi

dpkg-deb -c "$DEB1" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T_TMP/contents"
missing=
for f in "$SRCDIR"/sql/*/*.sql "$SRCDIR"/flows/*.json; do
	rel=${f#"$SRCDIR"/}
	grep -qx "/usr/share/blueflow/$rel" "$T_TMP/contents" || missing="$missing $rel"
done
for f in /usr/bin/blueflow /usr/share/man/man1/blueflow.1.gz \
	/usr/share/blueflow/nginx/blueflow.conf /lib/systemd/system/blueflow.service \
	/lib/systemd/system/blueflow.service.d/debian.conf; do
	grep -qx "$f" "$T_TMP/contents" || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "package-contents (every sql/ and flows/ file)"; else
	fail package-contents "missing:$missing"; fi
run dpkg-deb -f "$DEB1" Depends Recommends Suggests
if grep -q '^Depends: .*libjson-c5' "$T_TMP/out" && grep -qx 'Recommends: nginx' "$T_TMP/out" &&
	grep -qx 'Suggests: postgresql' "$T_TMP/out"; then ok relations; else
	fail relations "$(cat "$T_TMP/out")"; fi

# --- v2, built while nothing else runs: two builds at once only slow down
if build "$V2" "$T_TMP/build2.log" && [ -f "$DEB2" ]; then
	ok "dpkg-buildpackage: ${DEB2##*/} (with $MIG)"
else
	fail dpkg-buildpackage-v2 "no ${DEB2##*/}: $(tail -n 25 "$T_TMP/build2.log")"
fi
git -C "$SRCDIR" status --porcelain >"$T_TMP/status.after" 2>&1
if cmp -s "$T_TMP/status.before" "$T_TMP/status.after"; then ok worktree-untouched; else
	fail worktree-untouched "$(diff "$T_TMP/status.before" "$T_TMP/status.after" | head -n 5)"; fi

# --- the root ------------------------------------------------------------
if [ -n "$BOOT_PID" ]; then
	# another run may have put its root there meanwhile: then mv -T fails
	# and that one serves
	wait "$BOOT_PID" && mv -T "$NEW" "$BASE" 2>/dev/null
	BOOT_PID=
	boot_stop
fi
if [ -x "$BASE/bin/sh" ] && cp -a "$BASE/." "$ROOT/"; then
	ok "root (debootstrap bookworm, $(($(date +%s) - START)) s so far)"
else
	fail root "debootstrap failed: $(tail -n 15 "$T_TMP/debootstrap.log" 2>/dev/null)"
	finish
	exit 1
fi
# no service starts in the root (there is no systemd there either)
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
echo "deb $MIRROR bookworm main" >"$ROOT/etc/apt/sources.list"
mkdir -p "$CACHE/archives"
cp "$CACHE"/archives/*.deb "$ROOT/var/cache/apt/archives/" 2>/dev/null
cp "$DEB1" "$DEB2" "$ROOT/tmp/"

# apt_root ARGS...: apt-get in the root; the .debs it fetched kept for the
# next run
apt_root() {
	in_root apt-get -q -y -o Dpkg::Options::=--force-confdef \
		-o Dpkg::Options::=--force-confold "$@" >"$T_TMP/out" 2>"$T_TMP/err"
	RC=$?
	cat "$T_TMP/out" "$T_TMP/err" >>"$T_TMP/apt.log"
	find "$ROOT/var/cache/apt/archives" -maxdepth 1 -name '*.deb' ! -name 'blueflow_*' \
		-exec cp -n {} "$CACHE/archives/" \;
}

# --- install -------------------------------------------------------------
apt_root update
expect_rc apt-get-update 0
apt_root install --no-install-recommends "/tmp/${DEB1##*/}"
expect_rc "apt-get install ./${DEB1##*/}" 0
if [ "$RC" -ne 0 ]; then
	echo "# $(tail -n 20 "$T_TMP/apt.log")"
	finish
	exit 1
fi

# mode_of PATH: "MODE USER:GROUP" of PATH in the root
mode_of() { in_root stat -c '%a %U:%G' "$1" 2>&1; }
for want in "/etc/blueflow/blueflow.conf 644 root:root" \
	"/etc/blueflow/blueflow.env 600 root:root" \
	"/var/lib/blueflow 700 blueflow:blueflow" \
	"/usr/bin/blueflow 755 root:root"; do
	set -- $want
	got=$(mode_of "$1")
	if [ "$got" = "$2 $3" ]; then ok "installed $1 $2 $3"; else
		fail "installed $1" "$got, wanted $2 $3"; fi
done
run in_root dpkg-query -W -f='${Conffiles}\n' blueflow
if grep -q ' /etc/blueflow/blueflow.conf ' "$T_TMP/out" &&
	grep -q ' /etc/blueflow/blueflow.env ' "$T_TMP/out"; then ok conffiles; else
	fail conffiles "$(cat "$T_TMP/out")"; fi
if [ -L "$ROOT/etc/systemd/system/multi-user.target.wants/blueflow.service" ]; then
	ok unit-enabled; else fail unit-enabled "no multi-user.target.wants/blueflow.service link"; fi
run in_root getent passwd blueflow
expect_out system-user "/var/lib/blueflow:/usr/sbin/nologin"

run in_root sh -c 'blueflow check /usr/share/blueflow/flows/*.json'
expect_rc "blueflow check /usr/share/blueflow/flows/*.json" 0
expect_out check-onboarding "onboarding.json: ok"
run in_root blueflow check -c /etc/blueflow/blueflow.conf
expect_rc "blueflow check -c /etc/blueflow/blueflow.conf" 0

# the unit and its drop-in as systemd parses them: no line of either
# refused (the binary is the root's, so the host's systemd-analyze
# finding no /usr/bin/blueflow is expected)
if command -v systemd-analyze >/dev/null 2>&1; then
	SYSTEMD_UNIT_PATH="$ROOT/lib/systemd/system:" systemd-analyze verify --man=no \
		"$ROOT/lib/systemd/system/blueflow.service" >"$T_TMP/verify" 2>&1
	if grep -qE '\.(service|conf):[0-9]+:' "$T_TMP/verify"; then
		fail unit-parses "$(grep -E '\.(service|conf):[0-9]+:' "$T_TMP/verify" | head -n 5)"
	else
		ok "unit-parses (systemd-analyze verify, with the drop-in)"
	fi
fi

# the unit's start condition (the drop-in's ExecCondition, run as systemd
# would: as root, in the root): refused while blueflow.env is as shipped
COND=$(sed -n "s|^ExecCondition=+/bin/sh -c '\(.*\)'\$|\1|p" \
	"$ROOT/lib/systemd/system/blueflow.service.d/debian.conf")
[ -n "$COND" ] || fail exec-condition "no ExecCondition=+/bin/sh -c '...' in the drop-in"
run in_root /bin/sh -c "$COND"
expect_rc start-condition-before-token 1
expect_err start-condition-says-why "write the bot token"

# --- an operator's edits, then the pool serves a conversation -----------
# made here, so that the test's own text (exported with the tree) has none
TOKEN=123456789:AA$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
SECRET=s$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
secret "$TOKEN"
secret "$SECRET"
# the Bot API on a loopback port nobody listens on: the sender's calls
# fail there; the replies to check come inline
DEAD=$(free_port 0)
sed -i -e "s|^#api_base = .*|api_base = http://127.0.0.1:$DEAD ; edited by tests/deb.sh|" \
	-e 's|^workers = 0|workers = 1|' "$ROOT/etc/blueflow/blueflow.conf"
sed -i -e "s|^ONBOARDING_TOKEN=\$|ONBOARDING_TOKEN=$TOKEN|" \
	-e "s|^ONBOARDING_SECRET=\$|ONBOARDING_SECRET=$SECRET|" "$ROOT/etc/blueflow/blueflow.env"
run in_root /bin/sh -c "$COND"
expect_rc start-condition-with-token 0

# serve: the pool as the unit runs it, as the user blueflow with nginx's
# group, the secrets from blueflow.env; /run/blueflow as RuntimeDirectory=
# makes it (the user's, 0755)
serve() {
	in_root install -d -m 755 -o blueflow -g blueflow /run/blueflow
	rm -f "$ROOT/run/blueflow/blueflow.sock"
	in_root /bin/sh -c 'set -a; . /etc/blueflow/blueflow.env; set +a
		exec setpriv --reuid=blueflow --regid=blueflow --groups=www-data \
			/usr/bin/blueflow serve --foreground -c /etc/blueflow/blueflow.conf' \
		>>"$T_TMP/serve.log" 2>&1 &
	SERVE_PID=$!
	n=0
	until [ -S "$ROOT/run/blueflow/blueflow.sock" ] || [ $n -ge 100 ] || ! alive "$SERVE_PID"; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -S "$ROOT/run/blueflow/blueflow.sock" ]
}
stop() {
	if kill_in_root; then ok "stopped (no process left in the root)"; else
		fail stopped "the pool outlived TERM; killed"; fi
	kill "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID" 2>/dev/null
	SERVE_PID=
}

# post N: the golden case onboarding_main's update N (comments left out),
# dated now, to the pool's socket as nginx would pass it; the FastCGI
# answer (headers, body) in $T_TMP/reply
UPDATES=$SRCDIR/tests/flows/onboarding_main/updates.jsonl
post() {
	grep -v '^#' "$UPDATES" | sed -n "$1p" |
		sed "s/\"date\":1718000[0-9]*,\"text\"/\"date\":$(date +%s),\"text\"/" >"$T_TMP/body"
	env -i REQUEST_METHOD=POST DOCUMENT_URI=/tg/onboarding REQUEST_URI=/tg/onboarding \
		CONTENT_TYPE=application/json CONTENT_LENGTH="$(wc -c <"$T_TMP/body")" \
		HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="$SECRET" \
		cgi-fcgi -bind -connect "$ROOT/run/blueflow/blueflow.sock" <"$T_TMP/body" >"$T_TMP/reply" 2>&1
}
# replied NAME TEXT: the last reply has TEXT
replied() {
	if grep -qF -- "$2" "$T_TMP/reply"; then ok "$1"; else
		fail "$1" "the reply lacks '$2': $(head -c 600 "$T_TMP/reply")"; fi
}

if serve; then ok "serve (the packaged config, by hand)"; else
	fail serve "no socket: $(tail -n 10 "$T_TMP/serve.log")"; fi
# /start sends three messages: all go to the outbox, the answer is an
# empty 200; the press is answered inline, its question queued
post 1
replied start-answered 'Status: 200'
post 2
replied press-answered-inline '"method":"answerCallbackQuery"'
stop
# export: the chat's state in the store, read by the packaged binary as
# the service's user
export_chat() {
	in_root /bin/sh -c 'exec setpriv --reuid=blueflow --regid=blueflow --clear-groups \
		/usr/bin/blueflow export onboarding --format jsonl -c /etc/blueflow/blueflow.conf' \
		>"$T_TMP/out" 2>"$T_TMP/err"
	RC=$?
}
export_chat
expect_out conversation-in-sqlite '"node":"full_name"'
got=$(mode_of /var/lib/blueflow/blueflow.db)
if [ "$got" = "600 blueflow:blueflow" ]; then ok "store /var/lib/blueflow/blueflow.db $got"; else
	fail store "$got, wanted 600 blueflow:blueflow"; fi

# --- upgrade -------------------------------------------------------------
cp "$ROOT/etc/blueflow/blueflow.conf" "$T_TMP/conf.edited"
apt_root install --no-install-recommends "/tmp/${DEB2##*/}"
expect_rc "upgrade to ${DEB2##*/}" 0
if grep -q '1 migration applied' "$T_TMP/apt.log"; then ok "postinst migrated ($MIG)"; else
	fail postinst-migrate "no '1 migration applied' in apt-get's output: $(tail -n 15 "$T_TMP/apt.log")"; fi
if cmp -s "$T_TMP/conf.edited" "$ROOT/etc/blueflow/blueflow.conf"; then ok edited-config-kept; else
	fail edited-config-kept "$(diff "$T_TMP/conf.edited" "$ROOT/etc/blueflow/blueflow.conf" | head -n 10)"; fi
if grep -qx "ONBOARDING_TOKEN=$TOKEN" "$ROOT/etc/blueflow/blueflow.env" &&
	[ "$(mode_of /etc/blueflow/blueflow.env)" = "600 root:root" ]; then ok edited-env-kept; else
	fail edited-env-kept "token gone or mode $(mode_of /etc/blueflow/blueflow.env)"; fi
if [ -f "$ROOT/usr/share/blueflow/sql/sqlite/$MIG" ]; then ok "new migration installed"; else
	fail new-migration "no /usr/share/blueflow/sql/sqlite/$MIG"; fi
run in_root setpriv --reuid=blueflow --regid=blueflow --clear-groups \
	/usr/bin/blueflow db migrate -c /etc/blueflow/blueflow.conf
expect_out schema-up-to-date "0 migrations applied"
export_chat
expect_out conversation-survives-upgrade '"node":"full_name"'

# --- remove, purge -------------------------------------------------------
apt_root remove blueflow
expect_rc apt-get-remove 0
if [ ! -e "$ROOT/usr/bin/blueflow" ] && [ -f "$ROOT/etc/blueflow/blueflow.conf" ] &&
	[ -f "$ROOT/var/lib/blueflow/blueflow.db" ]; then ok remove-keeps-config-and-store; else
	fail remove "binary still there, or config or store gone"; fi
apt_root purge blueflow
expect_rc apt-get-purge 0
left=
for d in /etc/blueflow /var/lib/blueflow /usr/share/blueflow /usr/bin/blueflow \
	/etc/systemd/system/multi-user.target.wants/blueflow.service; do
	[ -e "$ROOT$d" ] || [ -L "$ROOT$d" ] && left="$left $d"
done
if [ -z "$left" ]; then ok purge-leaves-nothing; else fail purge "left:$left"; fi

echo "# tests/deb.sh took $(($(date +%s) - START)) s"
finish
