#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# systemctl for a chroot, where systemd is not PID 1 (t_quickstart.sh puts
# it in the chroot's /usr/local/sbin). start, restart, stop and status do
# what the unit file and its drop-ins (UNIT.d/*.conf) say: EnvironmentFile,
# Environment, ExecCondition, ExecStartPre (each line, with the "-" and "+"
# prefixes), User/Group, StateDirectory, CacheDirectory, RuntimeDirectory,
# then ExecStart in the background with its output in
# /var/log/chroot-units/UNIT.log (the journal's stand-in). Every other
# command goes to the real systemctl,
# which works on unit files without systemd (enable, disable, is-enabled).
# Not honoured: sandboxing, Restart=, Type=notify's readiness (the caller
# waits for what readiness means for that unit).
set -eu
REAL=/usr/bin/systemctl
RUN=/run/chroot-units
LOGS=/var/log/chroot-units

unit_file() {
	for d in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
		[ -f "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	echo "systemctl (chroot): unit $1 not found" >&2
	return 1
}

# the unit file, then its drop-ins in the order systemd reads them: sorted
# by name, one in /etc hiding one of the same name in /usr/lib (/lib is
# /usr/lib on a merged-/usr system: each name is listed once)
unit_files() {
	f=$(unit_file "$1") || return 1
	echo "$f"
	for n in $(ls /usr/lib/systemd/system/"$1".d /lib/systemd/system/"$1".d \
		/etc/systemd/system/"$1".d 2>/dev/null | grep '\.conf$' | sort -u); do
		for d in /etc/systemd/system /usr/lib/systemd/system /lib/systemd/system; do
			[ -f "$d/$1.d/$n" ] && { echo "$d/$1.d/$n"; break; }
		done
	done
}

# the value of KEY= in the unit's files (the last one; no continuation lines)
key() {
	k=$1
	shift
	# shellcheck disable=SC2086 # the unit's files, one word each
	sed -n "s/^$k=//p" $* | sed -n '$p'
}

# a unit's command line, as systemd runs it: $$ is a literal $, $VAR and
# ${VAR} come from the environment file (the sh that runs it expands them)
cmdline() {
	printf '%s' "$1" | sed 's/\$\$/$/g'
}

pid_of() {
	[ -f "$RUN/$1.pid" ] || return 1
	p=$(cat "$RUN/$1.pid")
	kill -0 "$p" 2>/dev/null || return 1
	echo "$p"
}

stop_unit() {
	p=$(pid_of "$1") || return 0
	kill -TERM "$p"
	# as systemd waits TimeoutStopSec (90 s by default)
	i=0
	while kill -0 "$p" 2>/dev/null && [ "$i" -lt 900 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$p" 2>/dev/null || true
	rm -f "$RUN/$1.pid"
}

start_unit() {
	name=$1
	unit_file "$name.service" >/dev/null || return 1
	f=$(unit_files "$name.service" | tr '\n' ' ')
	user=$(key User "$f")
	user=${user:-root}
	group=$(key Group "$f")
	group=${group:-$(id -gn "$user")}
	envfile=$(key EnvironmentFile "$f")
	envfile=${envfile#-}
	# the unit's own ConditionPathExists
	cond=$(key ConditionPathExists "$f")
	if [ -n "$cond" ] && [ ! -e "$cond" ]; then
		echo "systemctl (chroot): $name: condition failed: ConditionPathExists=$cond" >&2
		return 0
	fi
	for kind in State Cache Runtime; do
		dir=$(key "${kind}Directory" "$f")
		[ -n "$dir" ] || continue
		mode=$(key "${kind}DirectoryMode" "$f")
		base=/var/lib
		[ "$kind" = Cache ] && base=/var/cache
		[ "$kind" = Runtime ] && base=/run
		# as systemd: a directory of another owner (User= changed, by a
		# drop-in) is given to the unit's user, the whole tree
		if [ -d "$base/$dir" ] && [ "$(stat -c %U:%G "$base/$dir")" != "$user:$group" ]; then
			chown -R "$user:$group" "$base/$dir"
		fi
		install -d -m "${mode:-0755}" -o "$user" -g "$group" "$base/$dir"
	done
	env_setup=:
	[ -n "$envfile" ] && [ -f "$envfile" ] && env_setup="set -a; . $envfile; set +a"
	# Environment=VAR=VALUE lines (one variable each; %C is /var/cache)
	# shellcheck disable=SC2086
	for e in $(sed -n 's/^Environment=//p' $f | sed 's|%C|/var/cache|g'); do
		env_setup="$env_setup; export $e"
	done
	mkdir -p "$RUN" "$LOGS"
	# every ExecCondition and ExecStartPre line in order, with systemd's
	# prefixes: "-" a failure is ignored, "+" full privileges (root)
	for k in ExecCondition ExecStartPre; do
		# shellcheck disable=SC2086 # the unit's files, one word each
		sed -n "s/^$k=//p" $f | while IFS= read -r c; do
			ignore=0 as_user=$user as_group=$group
			while :; do
				case $c in
				-*) ignore=1 && c=${c#-} ;;
				+*) as_user=root as_group=root && c=${c#+} ;;
				*) break ;;
				esac
			done
			c=$(cmdline "$c")
			# ExecCondition: exit 1..254 skips the unit, as systemd does
			if ! setpriv --reuid="$as_user" --regid="$as_group" --init-groups \
				/bin/sh -c "$env_setup; $c" >>"$LOGS/$name.log" 2>&1; then
				[ "$ignore" = 1 ] && continue
				echo "systemctl (chroot): $name: $k failed (its output: $LOGS/$name.log)" >&2
				[ "$k" = ExecCondition ] && exit 10
				exit 1
			fi
		done || {
			rc=$?
			[ "$rc" = 10 ] && return 0
			return 1
		}
	done
	c=$(cmdline "$(key ExecStart "$f")")
	setsid setpriv --reuid="$user" --regid="$group" --init-groups \
		/bin/sh -c "$env_setup; exec $c" >>"$LOGS/$name.log" 2>&1 </dev/null &
	echo $! >"$RUN/$name.pid"
}

[ $# -ge 1 ] || exec "$REAL"
opts=
while [ $# -ge 1 ]; do
	case $1 in
	-*) opts="$opts $1" && shift ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || exec "$REAL" $opts
verb=$1
shift
case $verb in
start | restart | stop)
	for u in "$@"; do
		case $u in -*) continue ;; esac
		u=${u%.service}
		if [ "$verb" != start ]; then stop_unit "$u"; fi
		if [ "$verb" != stop ] && ! pid_of "$u" >/dev/null; then start_unit "$u"; fi
	done
	;;
status)
	rc=0
	for u in "$@"; do
		case $u in -*) continue ;; esac
		u=${u%.service}
		if p=$(pid_of "$u"); then
			echo "● $u.service - active (running), main PID $p (chroot stand-in for systemd)"
		else
			echo "● $u.service - inactive (dead)"
			rc=3
		fi
		if [ -f "$LOGS/$u.log" ]; then sed -n '$p' "$LOGS/$u.log" | sed 's/^/    /'; fi
	done
	exit "$rc"
	;;
*)
	# shellcheck disable=SC2086 # the options, one word each
	exec "$REAL" $opts "$verb" "$@"
	;;
esac
