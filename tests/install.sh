#!/bin/sh
# tests/install.sh - `make install` and `make uninstall` into a DESTDIR:
# every file where an operator expects it, with sane modes and configure's
# paths; the systemd unit verified (systemd-analyze when it can run here,
# and a strict parse of our own in any case); the man page clean and in
# step with `blueflow --help` and each `blueflow CMD --help`; the installed
# binary, flows and sample config working; an operator's edited config never
# overwritten; and nothing left behind by `make uninstall`.
# It runs make in the build folder, the folder of $BLUEFLOW.
set -u
. "$SRCDIR/tests/lib.sh"

BUILD=$(cd "$(dirname "$BLUEFLOW")" && pwd)
ROOT=$T_TMP/root

# bmake ARGS...: make in the build folder, without the make check that may
# have started us (its jobserver, its command-line variables such as TESTS).
bmake() {
	(unset MAKEFLAGS MFLAGS MAKELEVEL GNUMAKEFLAGS
	 exec "${MAKE:-make}" --no-print-directory -C "$BUILD" "$@")
}

# mode FILE: the file's permission bits in octal, e.g. 644
mode() { stat -c %a "$1"; }

# unmagic FILE: the man page as words: no font escapes, \- as -, \e as \
unmagic() { sed -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\-/-/g' -e 's/\\e/\\/g' "$1"; }

run bmake print-install-dirs
if [ "$RC" -ne 0 ]; then
	fail install-dirs "make print-install-dirs failed (Makefile.am's install block missing, or autoreconf not run?): $(head -c 600 "$T_TMP/err")"
	finish
	exit 1
fi
bindir='' man1dir='' sysconfdir='' pkgdatadir='' docdir='' systemdsystemunitdir='' version=''
eval "$(cat "$T_TMP/out")"
ok install-dirs
CONFDIR=$sysconfdir/blueflow

# The files `make install` must put, each with its mode: one "PATH MODE" a
# line; the SQL and the flows are those of the source tree.
expected() {
	cat <<EOF
$bindir/blueflow 755
$man1dir/blueflow.1 644
$systemdsystemunitdir/blueflow.service 644
$CONFDIR/blueflow.conf 644
$CONFDIR/blueflow.env 600
$pkgdatadir/examples/blueflow.conf 644
$pkgdatadir/examples/blueflow.env 644
$pkgdatadir/nginx/blueflow.conf 644
$docdir/flows.md 644
EOF
	for f in "$SRCDIR"/sql/*/*.sql; do
		d=${f%/*}
		echo "$pkgdatadir/sql/${d##*/}/${f##*/} 644"
	done
	for f in "$SRCDIR"/flows/*.json; do
		echo "$pkgdatadir/flows/${f##*/} 644"
	done
}
expected >"$T_TMP/expected"

# installed: every file and link under $ROOT, as the paths they install to
installed() { (cd "$ROOT" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort); }

# --- install ---------------------------------------------------------------
run bmake install DESTDIR="$ROOT"
expect_rc make-install 0

missing=0
while read -r path want; do
	if [ ! -f "$ROOT$path" ]; then
		fail "installed $path" "missing"
		missing=$((missing + 1))
	elif [ "$(mode "$ROOT$path")" != "$want" ]; then
		fail "mode $path" "$(mode "$ROOT$path"), wanted $want"
	fi
done <"$T_TMP/expected"
[ $missing -eq 0 ] && ok "every-file-installed ($(wc -l <"$T_TMP/expected") files)"

# nothing more than that list: a new installed file is added to expected()
cut -d' ' -f1 "$T_TMP/expected" | sort >"$T_TMP/expected.paths"
installed >"$T_TMP/installed"
extra=$(comm -13 "$T_TMP/expected.paths" "$T_TMP/installed")
[ -z "$extra" ] && ok nothing-unexpected || fail nothing-unexpected "also installed: $extra"

bad=$(find "$ROOT" \( -perm -o+w -o -perm -4000 -o -perm -2000 \) ! -type l)
[ -z "$bad" ] && ok no-world-writable-or-setid || fail no-world-writable-or-setid "$bad"

# copies of the source tree, byte for byte
same=1
for f in "$SRCDIR"/sql/*/*.sql "$SRCDIR"/flows/*.json "$SRCDIR"/nginx/blueflow.conf; do
	rel=${f#"$SRCDIR"/}
	to=$pkgdatadir/$rel
	[ -f "$ROOT$to" ] && ! cmp -s "$f" "$ROOT$to" && { same=0; fail "copy $rel" "differs from the source"; }
done
[ $same -eq 1 ] && ok data-matches-source

# the generated files carry configure's paths, and no @placeholder@ is left
UNIT=$ROOT$systemdsystemunitdir/blueflow.service
CONF=$ROOT$CONFDIR/blueflow.conf
ENVF=$ROOT$CONFDIR/blueflow.env
MAN=$ROOT$man1dir/blueflow.1
left=$(grep -Hn '@[A-Za-z_]*@' "$UNIT" "$CONF" "$ENVF" "$MAN" 2>/dev/null)
[ -z "$left" ] && ok no-placeholder-left || fail no-placeholder-left "$left"

# every installed file the manual names is installed (the flow reference
# and the schema it points to)
named=$(unmagic "$MAN" | grep -o "\($pkgdatadir\|$(dirname "$docdir")\)/[A-Za-z0-9_./-]*[A-Za-z0-9]" | sort -u)
gone=
for f in $named; do [ -e "$ROOT$f" ] || gone="$gone $f"; done
echo "$named" | grep -q "flows.md$" && [ -z "$gone" ] && ok man-named-files-installed ||
	fail man-named-files-installed "named: $named; missing:$gone"
cmp -s "$SRCDIR/docs/flows.md" "$ROOT$docdir/flows.md" && ok flow-reference-installed ||
	fail flow-reference-installed "$docdir/flows.md differs from docs/flows.md"

# --- the unit ---------------------------------------------------------------
# unit_has LINE: the unit has exactly this line
unit_has() {
	if grep -qxF -- "$1" "$UNIT"; then ok "unit: $1"; else
		fail "unit: $1" "no such line in $UNIT"
	fi
}
unit_has "ExecStart=$bindir/blueflow serve --foreground -c $CONFDIR/blueflow.conf"
unit_has "EnvironmentFile=-$CONFDIR/blueflow.env"
unit_has 'ExecReload=/bin/kill -HUP $MAINPID'
unit_has 'Type=exec'
unit_has 'KillMode=mixed'
unit_has 'DynamicUser=yes'
unit_has 'StateDirectory=blueflow'
unit_has 'RuntimeDirectory=blueflow'
unit_has 'ProtectSystem=strict'
unit_has 'ProtectHome=yes'
unit_has 'PrivateTmp=yes'
unit_has 'NoNewPrivileges=yes'
unit_has 'WantedBy=multi-user.target'

# A strict parse of our own: sections and keys systemd knows, KEY=VALUE
# lines only, no key given twice unless systemd takes it as a list.
awk -v unit="$UNIT" '
BEGIN {
	split("Description Documentation Requires Requisite Wants BindsTo PartOf " \
	    "Conflicts Before After OnFailure DefaultDependencies " \
	    "RequiresMountsFor StartLimitIntervalSec StartLimitBurst " \
	    "ConditionPathExists AssertPathExists", k, " ")
	for (i in k) known["Unit", k[i]] = 1
	split("Type ExecStart ExecStartPre ExecStartPost ExecReload ExecStop " \
	    "ExecStopPost Restart RestartSec TimeoutStartSec TimeoutStopSec " \
	    "KillMode KillSignal SendSIGKILL SuccessExitStatus " \
	    "RestartPreventExitStatus WatchdogSec NotifyAccess PIDFile " \
	    "User Group DynamicUser SupplementaryGroups WorkingDirectory UMask " \
	    "Environment EnvironmentFile StateDirectory StateDirectoryMode " \
	    "RuntimeDirectory RuntimeDirectoryMode CacheDirectory LogsDirectory " \
	    "ConfigurationDirectory ReadWritePaths ReadOnlyPaths " \
	    "InaccessiblePaths ProtectSystem ProtectHome PrivateTmp " \
	    "PrivateDevices PrivateNetwork PrivateUsers PrivateMounts PrivateIPC " \
	    "NoNewPrivileges CapabilityBoundingSet AmbientCapabilities " \
	    "ProtectKernelTunables ProtectKernelModules ProtectKernelLogs " \
	    "ProtectControlGroups ProtectClock ProtectHostname ProtectProc " \
	    "ProcSubset RestrictAddressFamilies RestrictNamespaces " \
	    "RestrictRealtime RestrictSUIDSGID LockPersonality " \
	    "MemoryDenyWriteExecute RemoveIPC SystemCallArchitectures " \
	    "SystemCallFilter SystemCallErrorNumber DevicePolicy DeviceAllow " \
	    "LimitNOFILE LimitCORE MemoryMax TasksMax StandardOutput " \
	    "StandardError SyslogIdentifier", k, " ")
	for (i in k) known["Service", k[i]] = 1
	split("WantedBy RequiredBy Alias Also", k, " ")
	for (i in k) known["Install", k[i]] = 1
	split("Documentation Requires Wants Before After Conflicts ExecStartPre " \
	    "ExecStartPost ExecStop ExecStopPost Environment EnvironmentFile " \
	    "ReadWritePaths ReadOnlyPaths InaccessiblePaths SupplementaryGroups " \
	    "SystemCallFilter RestrictAddressFamilies DeviceAllow WantedBy " \
	    "RequiredBy CapabilityBoundingSet AmbientCapabilities", k, " ")
	for (i in k) list[k[i]] = 1
	sec = ""
	bad = 0
}
function problem(msg) { printf "%s:%d: %s\n", unit, NR, msg; bad = 1 }
/^[ \t]*([#;].*)?$/ { next }
/^\[[A-Za-z]+\]$/ {
	sec = substr($0, 2, length($0) - 2)
	if (sec != "Unit" && sec != "Service" && sec != "Install")
		problem("unknown section [" sec "]")
	if (sec in seen_sec) problem("section [" sec "] twice")
	seen_sec[sec] = 1
	next
}
/^[A-Za-z]+=/ {
	key = substr($0, 1, index($0, "=") - 1)
	if (sec == "") problem(key " before any section")
	else if (!((sec, key) in known)) problem("unknown key " key " in [" sec "]")
	else if ((sec, key) in count && !(key in list)) problem(key " given twice")
	count[sec, key]++
	next
}
{ problem("not a KEY=VALUE line: " $0) }
END {
	if (!("Service" in seen_sec)) problem("no [Service] section")
	exit bad
}' "$UNIT" >"$T_TMP/parse" 2>&1
[ $? -eq 0 ] && ok unit-strict-parse || fail unit-strict-parse "$(head -c 600 "$T_TMP/parse")"

# systemd-analyze verify, when it works without a booted systemd (it does
# on Debian 12 as root or not): it must have nothing to say. The unit's
# ExecStart names the installed path, so verify a copy that names $ROOT's.
SA=$T_TMP/sa
mkdir -p "$SA"
printf '[Service]\nExecStart=/bin/true\n' >"$SA/probe.service"
if command -v systemd-analyze >/dev/null 2>&1 &&
   systemd-analyze verify --man=no "$SA/probe.service" >"$SA/probe.out" 2>&1 &&
   [ ! -s "$SA/probe.out" ]; then
	sed "s|^ExecStart=$bindir/|ExecStart=$ROOT$bindir/|" "$UNIT" >"$SA/blueflow.service"
	systemd-analyze verify --man=no "$SA/blueflow.service" >"$SA/verify.out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$SA/verify.out" ]; then ok systemd-analyze-verify; else
		fail systemd-analyze-verify "exit $rc: $(head -c 600 "$SA/verify.out")"
	fi
	# the hardening, as systemd scores it: 0 (locked down) to 10 (exposed)
	if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
		systemd-analyze security --offline=yes --threshold=30 \
			"$SA/blueflow.service" >"$SA/security.out" 2>&1
		rc=$?
		level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$SA/security.out")
		if [ $rc -eq 0 ]; then ok "unit-exposure-$level-at-most-3.0"; else
			fail unit-exposure "exit $rc, exposure ${level:-?} over 3.0: $(grep '✗' "$SA/security.out" | head -c 600)"
		fi
	fi
else
	echo "note: systemd-analyze verify cannot run here; the strict parse above stands in"
fi

# --- the config, the env file, nginx and the unit agree -------------------
# conf KEY: the value of the first uncommented KEY in the installed config
conf() { sed -n "s/^$1[ 	]*=[ 	]*//p" "$CONF" | head -n 1; }
rundir=/run/$(sed -n 's/^RuntimeDirectory=//p' "$UNIT")
statedir=/var/lib/$(sed -n 's/^StateDirectory=//p' "$UNIT")
case $(conf listen) in
"$rundir"/*) ok conf-listen-in-runtime-dir ;;
*) fail conf-listen-in-runtime-dir "listen = $(conf listen), not in $rundir" ;;
esac
if grep -qE "^[[:space:]]*server unix:$(conf listen);" "$ROOT$pkgdatadir/nginx/blueflow.conf"; then
	ok nginx-upstream-is-conf-listen
else
	fail nginx-upstream-is-conf-listen "nginx's upstream is not unix:$(conf listen)"
fi
for k in db storage; do
	case $(conf $k) in
	"$statedir"/* | sqlite:"$statedir"/*) ok "conf-$k-in-state-dir" ;;
	*) fail "conf-$k-in-state-dir" "$k = $(conf $k), not in $statedir" ;;
	esac
done
owner_group=$(conf listen_owner)
owner_group=${owner_group#*:}
if grep -qxF "SupplementaryGroups=$owner_group" "$UNIT"; then ok socket-group-is-service-group; else
	fail socket-group-is-service-group "listen_owner's group $owner_group is not the unit's SupplementaryGroups"
fi
for v in $(sed -n 's/^[a-z_]*_env[ 	]*=[ 	]*//p' "$CONF"); do
	if grep -q "^$v=" "$ENVF"; then ok "env-file-has-$v"; else
		fail "env-file-has-$v" "blueflow.conf names $v, blueflow.env has no $v= line"
	fi
done
cmp -s "$CONF" "$ROOT$pkgdatadir/examples/blueflow.conf" && ok example-conf-is-conf ||
	fail example-conf-is-conf "differs"

# --- the man page -----------------------------------------------------------
checked=0
if command -v groff >/dev/null 2>&1; then
	LC_ALL=C groff -man -ww -z "$MAN" >"$T_TMP/groff" 2>&1
	rc=$?
	[ $rc -eq 0 ] && [ ! -s "$T_TMP/groff" ] && ok man-groff-ww-clean ||
		fail man-groff-ww-clean "exit $rc: $(head -c 600 "$T_TMP/groff")"
	checked=1
fi
if command -v mandoc >/dev/null 2>&1; then
	mandoc -T lint -W warning "$MAN" >"$T_TMP/mandoc" 2>&1
	rc=$?
	[ $rc -eq 0 ] && ok man-mandoc-lint-clean ||
		fail man-mandoc-lint-clean "exit $rc: $(head -c 600 "$T_TMP/mandoc")"
	checked=1
fi
[ $checked -eq 1 ] || fail man-checked "neither groff nor mandoc: install groff-base (scripts/deps.sh)"

# every command of `blueflow --help`, every subcommand and long option of
# `blueflow CMD --help`, is in the man page
unmagic "$MAN" >"$T_TMP/man.txt"
"$BLUEFLOW" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' >"$T_TMP/cmds"
[ -s "$T_TMP/cmds" ] && ok help-lists-commands || fail help-lists-commands "no Commands: in blueflow --help"
nmiss=0
for c in $(cat "$T_TMP/cmds"); do
	grep -qE "blueflow $c( |\$)" "$T_TMP/man.txt" ||
		{ fail "man-has-command-$c" "no \"blueflow $c\" in blueflow.1"; nmiss=$((nmiss + 1)); }
	"$BLUEFLOW" "$c" --help >"$T_TMP/chelp" 2>&1
	# subcommands: the word after "blueflow CMD" in the usage lines (the
	# "usage:" line and the "  blueflow CMD ..." lines right after it)
	subs=$(awk -v c="$c" '
		/^usage:/ { on = 1; sub(/^usage:/, "") }
		on && $1 == "blueflow" && $2 == c { if ($3 ~ /^[a-z]+$/) print $3; next }
		{ on = 0 }' "$T_TMP/chelp" | sort -u)
	for s in $subs; do
		grep -qE "blueflow $c $s( |\$)" "$T_TMP/man.txt" ||
			{ fail "man-has-$c-$s" "no \"blueflow $c $s\" in blueflow.1"; nmiss=$((nmiss + 1)); }
	done
	for o in $(grep -oE -- '--[a-z][a-z-]*' "$T_TMP/chelp" | sort -u); do
		grep -qF -- "$o" "$T_TMP/man.txt" ||
			{ fail "man-has-$c-$o" "blueflow $c --help names $o; blueflow.1 does not"; nmiss=$((nmiss + 1)); }
	done
done
[ $nmiss -eq 0 ] && ok "man-in-step-with-help ($(wc -l <"$T_TMP/cmds") commands)"

# --- the installed binary, flows and sample config --------------------------
BIN=$ROOT$bindir/blueflow
run "$BIN" --version
expect_rc installed-binary-runs 0
expect_out installed-binary-version "blueflow $version"

run "$BIN" check "$ROOT$pkgdatadir"/flows/*.json
expect_rc installed-flows-valid 0
expect_out installed-flows-checked ": ok: "

# The sample config, moved into $T_TMP (state, socket, installed flows),
# serves: the keys are right, the flow path is the installed one, the env
# file names the variables. listen_owner goes: no user blueflow here.
S=$T_TMP/serve
mkdir -p "$S/state" "$S/run"
sed -e "s|$statedir|$S/state|g" -e "s|$rundir|$S/run|g" \
	-e "s|$pkgdatadir/|$ROOT$pkgdatadir/|g" -e '/^listen_owner/d' \
	-e '/^\[server\]/a\
api_base = http://127.0.0.1:1\
workers = 1' -e '/^workers/d' "$CONF" >"$S/blueflow.conf"
(
	set -a
	# shellcheck disable=SC1090 # the installed env file
	. "$ENVF"
	for v in $(sed -n 's/^[a-z_]*_env[ 	]*=[ 	]*//p' "$CONF"); do
		case $v in *TOKEN*) eval "$v=123456:test-token" ;; *) eval "$v=s3cret-Token_1" ;; esac
	done
	exec "$BIN" serve --foreground -c "$S/blueflow.conf"
) 2>"$S/serve.log" &
SERVE_PID=$!
at_exit 'kill -TERM $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null'
SOCK=$S/run/$(basename "$(conf listen)")
i=0
while [ ! -S "$SOCK" ] && kill -0 $SERVE_PID 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ -S "$SOCK" ]; then
	ok sample-config-serves
	[ "$(mode "$SOCK")" = "$(conf listen_mode | sed 's/^0//')" ] && ok socket-mode ||
		fail socket-mode "$(mode "$SOCK"), wanted $(conf listen_mode)"
	db=$(conf db)
	db=$S/state/${db##*/}
	[ -f "$db" ] && [ "$(mode "$db")" = 600 ] && ok store-created-0600 ||
		fail store-created-0600 "$(ls -l "$db" 2>&1)"
	kill -TERM $SERVE_PID
	wait $SERVE_PID
	rc=$?
	[ $rc -eq 0 ] && ok serve-stops-on-term || fail serve-stops-on-term "exit $rc: $(tail -3 "$S/serve.log")"
else
	fail sample-config-serves "no socket $SOCK: $(head -c 600 "$S/serve.log")"
fi

# --- uninstall ----------------------------------------------------------------
run bmake uninstall DESTDIR="$ROOT"
expect_rc make-uninstall 0
left=$(installed)
[ -z "$left" ] && ok uninstall-leaves-no-file || fail uninstall-leaves-no-file "$left"
for d in "$pkgdatadir" "$CONFDIR"; do
	[ ! -d "$ROOT$d" ] && ok "uninstall-removes-$d" || fail "uninstall-removes-$d" "still there"
done
echo "note: folders left: $(cd "$ROOT" && find . -type d | sed 's|^\.||' | sort | tr '\n' ' ')"

# --- an operator's config survives install and uninstall ---------------------
rm -rf "$ROOT"
run bmake install DESTDIR="$ROOT"
expect_rc reinstall 0
echo '# the operator was here' >>"$CONF"
echo 'ONBOARDING_TOKEN=1:x' >>"$ENVF"
run bmake install DESTDIR="$ROOT"
expect_rc install-over-config 0
grep -q 'the operator was here' "$CONF" && ok install-keeps-edited-conf || fail install-keeps-edited-conf "overwritten"
grep -q '^ONBOARDING_TOKEN=1:x' "$ENVF" && ok install-keeps-edited-env || fail install-keeps-edited-env "overwritten"
[ "$(mode "$ENVF")" = 600 ] && ok env-still-0600 || fail env-still-0600 "$(mode "$ENVF")"
run bmake uninstall DESTDIR="$ROOT"
expect_rc uninstall-with-edited-config 0
left=$(installed | tr '\n' ' ')
[ "$left" = "$CONFDIR/blueflow.conf $CONFDIR/blueflow.env " ] && ok uninstall-keeps-only-edited-config ||
	fail uninstall-keeps-only-edited-config "left: $left"
expect_out uninstall-says-keeping "keeping"

finish
