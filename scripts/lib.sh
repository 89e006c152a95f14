# Shared by the README's commands (scripts/demo.sh, scripts/test-all.sh) and .ci/run.
# Source it; it defines functions and changes nothing by itself.

BOOKING_PG_MAJOR=${BOOKING_PG_MAJOR:-15}
BOOKING_PG_BIN=/usr/lib/postgresql/$BOOKING_PG_MAJOR/bin

say() { printf '==> %s\n' "$*" >&2; }

# Installs the Debian packages the build and the suites need, where they are missing.
ensure_packages() {
	# (contrib is part of the postgresql-NN package on Debian 12.)
	local pkgs=(build-essential "postgresql-$BOOKING_PG_MAJOR" "postgresql-server-dev-$BOOKING_PG_MAJOR"
		"postgresql-$BOOKING_PG_MAJOR-pgtap"
		libtap-parser-sourcehandler-pgtap-perl libipc-run-perl python3-psycopg2)
	local missing=()
	local p
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		if [ "$(id -u)" != 0 ]; then
			echo "missing packages: ${missing[*]}; run as root or install them" >&2
			return 1
		fi
		say "installing ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || return 1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || return 1
	fi
	export PATH="$BOOKING_PG_BIN:$PATH"
}

# Builds with warnings as errors and installs into the PostgreSQL that pg_config names.
build_install() {
	local src=$1
	say "building and installing booking"
	make -C "$src" -s PG_CONFIG="$BOOKING_PG_BIN/pg_config" \
		PG_CFLAGS="-Wall -Wextra -Werror -Wno-unused-parameter" >/dev/null || return 1
	make -C "$src" -s PG_CONFIG="$BOOKING_PG_BIN/pg_config" install >/dev/null || return 1
}

# as_pg CMD...: runs a command as the unprivileged postgres user (PostgreSQL refuses root).
# Where postgres cannot enter the current directory (a root-owned 0700 checkout), it runs from /.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		if runuser -u postgres -- test -x "$PWD" 2>/dev/null; then
			runuser -u postgres -- env PATH="$BOOKING_PG_BIN:$PATH" "$@"
		else
			(cd / && runuser -u postgres -- env PATH="$BOOKING_PG_BIN:$PATH" "$@")
		fi
	else
		env PATH="$BOOKING_PG_BIN:$PATH" "$@"
	fi
}

# start_cluster DIR PORT: a throwaway cluster in DIR, listening only on a Unix socket in DIR.
# Exports PGHOST, PGPORT, PGUSER, PGDATABASE for what follows.
start_cluster() {
	local dir=$1 port=$2
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	chmod 755 "$dir"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_pg initdb -D "$dir/data" -U postgres -A trust --no-sync >/dev/null
		cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
max_connections = 120
shared_buffers = 256MB
fsync = on
synchronous_commit = on
max_prepared_transactions = 10
log_min_messages = warning
CONF
	fi
	as_pg pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
	export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
}

stop_cluster() {
	local dir=$1
	[ -f "$dir/data/postmaster.pid" ] && as_pg pg_ctl -D "$dir/data" -m fast -w stop >/dev/null || true
}
