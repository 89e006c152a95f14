#!/usr/bin/env bash
# The README's first command: booking, from nothing prepared, racing 50 clients for 10 spots.
#
#   bash scripts/demo.sh                 (as root on Debian 12; `make demo` runs the same)
#   BOOKING_DEMO_PORT=5440 bash scripts/demo.sh
#
# Installs what is missing, builds and installs the extension, starts a throwaway PostgreSQL
# cluster inside the checkout (.cluster/, or a directory under /tmp when the postgres user cannot
# reach the checkout), creates the database booking_demo, makes a class of 10 spots, sends 50
# concurrent clients after it with pgbench, and shows what came of it: the counter, the rows, the
# audited refusals and booking.verify().  The cluster is left running for you to explore; the
# last lines say how to connect and how to stop it.  Running the script again stops that cluster,
# throws it away and starts a fresh one.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
source "$ROOT/scripts/lib.sh"

PORT=${BOOKING_DEMO_PORT:-5433}
CLIENTS=50
CAPACITY=10

ensure_packages
build_install "$ROOT"

# The cluster runs as postgres, which must be able to reach the directory; and a Unix socket path
# may not exceed 107 bytes.  Otherwise use a directory under /tmp.
DIR=$ROOT/.cluster
FALLBACK=/tmp/booking-demo-$(id -u)
if ! as_pg test -x "$ROOT"; then
	say "the postgres user cannot reach $ROOT (a parent directory is closed to it): using $FALLBACK for the cluster instead of $DIR"
	DIR=$FALLBACK
elif [ $((${#DIR} + 20)) -gt 100 ]; then
	say "$DIR is too long a path for a Unix socket: using $FALLBACK for the cluster instead"
	DIR=$FALLBACK
fi

# A cluster left by an earlier run: stop it and start again from nothing.
if [ -f "$DIR/data/PG_VERSION" ]; then
	say "stopping and removing the demo cluster of an earlier run in $DIR"
	stop_cluster "$DIR"
	rm -rf "$DIR/data" "$DIR/server.log" "$DIR/race.sql" "$DIR/pgbench.log"
fi

say "starting a throwaway cluster in $DIR (Unix socket only, port $PORT)"
if ! start_cluster "$DIR" "$PORT"; then
	echo "the cluster did not start; the end of its log:" >&2
	tail -20 "$DIR/server.log" >&2 || true
	exit 1
fi

# Every client of the demo runs as postgres, through the socket in $DIR.
pg() { as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -U postgres "$@"; }

pg -d postgres -c 'CREATE DATABASE booking_demo'
pg -d booking_demo -c 'CREATE EXTENSION booking'
RESOURCE=$(pg -d booking_demo -At -c \
	"INSERT INTO booking.resource (name, capacity) VALUES ('Saturday pasta class', $CAPACITY) RETURNING id")

cat >"$DIR/race.sql" <<'SQL'
SELECT ok FROM booking.book_slot(:resource, 1, holder => 'client-' || :client_id);
SQL
[ "$(id -u)" = 0 ] && chown postgres: "$DIR/race.sql"

echo
echo "== A class of $CAPACITY spots (resource $RESOURCE); $CLIENTS clients call booking.book_slot() at once"
if ! as_pg pgbench -n -c "$CLIENTS" -j 2 -t 1 -D resource="$RESOURCE" -f "$DIR/race.sql" \
	-h "$DIR" -p "$PORT" -U postgres booking_demo >"$DIR/pgbench.log" 2>&1; then
	cat "$DIR/pgbench.log" >&2
	echo "pgbench failed (its output is above)" >&2
	exit 1
fi
grep -E '^number of (clients|transactions actually processed|failed transactions)' "$DIR/pgbench.log" || true

echo
echo "== The counter"
pg -d booking_demo -c "SELECT id, name, capacity, spots_reserved, booking.availability(id) AS available
	FROM booking.resource WHERE id = $RESOURCE"

echo "== The rows that consume it"
pg -d booking_demo -c "SELECT status, count(*) AS bookings, sum(spots) AS spots
	FROM booking.booking WHERE resource_id = $RESOURCE GROUP BY status"

echo "== Every attempt, from the audit (refusals are returned, not raised, so they are kept)"
pg -d booking_demo -c "SELECT ok, reason, count(*) AS attempts
	FROM booking.attempt WHERE resource_id = $RESOURCE AND action = 'book' GROUP BY ok, reason ORDER BY ok DESC"

echo "== An ORM writing the table directly goes through the same rule"
pg -d booking_demo -v ON_ERROR_STOP=0 -c \
	"INSERT INTO booking.booking (resource_id, holder) VALUES ($RESOURCE, 'orm-insert')" 2>&1 || true
echo

echo "== booking.verify(): every counter equals its rows (no row = all is well)"
pg -d booking_demo -c 'SELECT * FROM booking.verify()'

if [ "$(id -u)" = 0 ]; then
	STOP="runuser -u postgres -- $BOOKING_PG_BIN/pg_ctl -D $DIR/data stop"
else
	STOP="$BOOKING_PG_BIN/pg_ctl -D $DIR/data stop"
fi
cat <<EOF
The cluster is still running. Explore it with:
    psql -h $DIR -p $PORT -U postgres booking_demo
(try: SELECT * FROM booking.book_slot($RESOURCE);  SELECT * FROM booking.attempt ORDER BY id DESC LIMIT 5;)
Stop it with:
    $STOP
Running this script again starts over with a fresh cluster.
EOF
