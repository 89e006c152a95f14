#!/usr/bin/env bash
# test/bench/run.sh — `make bench`: the engine against the peers a careful user writes, side by side.
#
# One throwaway cluster, one database, both sides in it.  Every contender is called by pgbench as
# one SELECT per transaction with 16 clients.  Three parts (BENCH_PARTS, default
# "pool timeline seats"):
#
# pool (setup.sql): pool resources, spots random 1-4, capacity never reached.
#   engine  SELECT booking.book_slot(:rid, :spots)          (audit on, the default)
#   P1      bench.p1_book: conditional UPDATE of the counter, then INSERT
#   P2      bench.p2_book: SELECT ... FOR UPDATE, check, UPDATE, INSERT
#   P3      bench.p3_book: pg_advisory_xact_lock, sum() of the rows, check, INSERT
#   a  one hot resource;  b  BENCH_RESOURCES resources, a random one per transaction;
#   c  one resource already holding BENCH_BIG_ROWS bookings
#
# timeline (setup-timeline.sql): rooms booked over time ranges, one attempt per transaction, a
# random room of BENCH_ROOMS and a random one-hour range inside the window; some attempts conflict.
#   engine  SELECT booking.book_slot(:room, 1, tstzrange(...)) on timeline resources
#   E       bench.e_book: INSERT into a table with EXCLUDE USING gist (room_id WITH =, during WITH &&),
#           exclusion_violation caught -> false
#   U       bench.u_book: INSERT ... ON CONFLICT DO NOTHING on a partial unique index on
#           (room_id, start_time) (right only when slots sit on a grid of their own length)
#   P       bench.p_book: pg_advisory_xact_lock(room), the peak load over the range, INSERT
#   N       bench.n_book: the INSERT alone, no check and no lock (it oversells): not a peer but the
#           ceiling, the most anything that writes the row could reach on the machine
#   d  capacity 1, starts on a 15-minute grid over BENCH_DAYS days         engine, E, N
#   u  capacity 1, starts on a 1-hour grid over BENCH_DAYS days            engine, E, U
#   e  capacity 3, starts on a 15-minute grid over BENCH_CAP3_DAYS days    engine, P, N
#   f  as d, with the rooms holding BENCH_TL_BIG_ROWS bookings instead of BENCH_TL_BASE_ROWS
#      (all before the window)                                             engine, E
#
# Every (workload, contender) pair runs BENCH_SECONDS, in rounds whose contender order rotates;
# before each run reset.sql / reset-timeline.sql restore the same starting state (rows, counters,
# empty audit, VACUUM, CHECKPOINT); after it check.sql / check-timeline.sql count what was
# written and check the rule independently of the engine.  The table printed at the end (median
# TPS, share of attempts that booked, engine/peer ratios, c against b and a, f against d) is also
# saved, with the raw per-run figures and pgbench logs, under BENCH_OUT (default test/bench/out).
#
# Diagnostics (BENCH_DIAG=1, the default; workloads a, b and d): the engine with -M simple (pool),
# with booking.audit off and with synchronous_commit off, and the best plain peer (P1, E) with
# synchronous_commit off (and P1 with -M simple), interleaved with the main runs, to show where
# the engine's time goes.
#
# managed (setup-managed.sql): an application's Prisma-shaped "Event"/"Registration", written by a
# plain INSERT of a registration of 1-4 spots for a random one of BENCH_EVENTS events, each
# already holding BENCH_MANAGED_HISTORY registrations; capacity never reached.
#   engine  the INSERT into tables put under the engine with booking.manage()
#   R       the same INSERT into an unprotected copy: no check, no counter (it oversells)
#   X       bench.x_register: SELECT ... FOR UPDATE of the event, check, UPDATE the counter, INSERT
#   m  the managed tables                                                 engine, R, X
#
# seats (setup-seats.sql): a seat map of BENCH_SEATS (2000) seats of one place; a script holds a
# group of 1-6 adjacent seats, confirms it with its token, cancels it (three transactions).
#   engine  book_many(hold => ...), confirm(), cancel(whole_group => true)
#   F       bench.s_hold / s_confirm / s_cancel: SELECT ... FOR UPDATE of the seats in PL/pgSQL
#   W       three prepared UPDATEs of bench.seat_w: each seat's counter written once per
#           transaction, with no check (not a peer: a ceiling for three transactions per script)
#   V       prepared statements writing the engine's data model with no check, no lock, no audit
#           (a counter and a booking row per seat; not a peer: that data model as SQL statements)
#   A       V plus a queue entry per held seat and an audit row per seat per transition: the
#           engine's design before its hold slot, written unchecked (not a peer: SQL statements)
#   I       A with each hold found through its seat's own row (hold_due) instead of a list: the
#           writes the contract asks of any design (not a peer: any design's writes as SQL statements)
#   s  the seat map                                                        engine, F, W, V, A, I
#
# Settings (environment): BENCH_PARTS ("pool timeline seats managed"), BENCH_EVENTS (1000),
# BENCH_MANAGED_HISTORY (20), BENCH_SECONDS (10), BENCH_ROUNDS (3),
# BENCH_CLIENTS (16), BENCH_JOBS (CPUs), BENCH_RESOURCES (1000), BENCH_BIG_ROWS (200000),
# BENCH_ROOMS (100), BENCH_DAYS (730), BENCH_CAP3_DAYS (90), BENCH_TL_BASE_ROWS (1000),
# BENCH_TL_BIG_ROWS (100000), BENCH_SEATS (2000), BENCH_SEATS_HISTORY (20000), BENCH_DIAG (1),
# BENCH_PORT (5504), BENCH_OUT, BENCH_KEEP (1: leave
# the cluster running), BENCH_COMMIT (the label printed when the tree is not a git checkout),
# BENCH_INSTALL: "system" (the default) runs build_install into the system's PostgreSQL as the
# other suites do (BENCH_SKIP_BUILD=1: measure what is installed); "private" builds a copy of the
# tree into a private copy of PostgreSQL, for a shared machine where others reinstall the module.
# Either way a run refuses to start once the module has changed.
# BENCH_QUICK=1 is a smoke test: 2 s runs, 1 round, 20000 pre-loaded pool rows, 20000 on f.
# With the defaults the pool part takes about 15 minutes (66 runs of 10 s plus resets), the
# timeline part about 12 (51 runs).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../../scripts/lib.sh
source "$ROOT/scripts/lib.sh"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	: "${BENCH_SECONDS:=2}" "${BENCH_ROUNDS:=1}" "${BENCH_BIG_ROWS:=20000}" "${BENCH_TL_BIG_ROWS:=20000}"
fi
PARTS=" ${BENCH_PARTS:-pool timeline seats managed} "
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-16}
JOBS=${BENCH_JOBS:-$(nproc)}
RESOURCES=${BENCH_RESOURCES:-1000}
BIG_ROWS=${BENCH_BIG_ROWS:-200000}
DIAG=${BENCH_DIAG:-1}
PORT=${BENCH_PORT:-5504}
CAPACITY=1000000000
ROOMS=${BENCH_ROOMS:-100}
DAYS=${BENCH_DAYS:-730}
CAP3_DAYS=${BENCH_CAP3_DAYS:-90}
TL_BASE_ROWS=${BENCH_TL_BASE_ROWS:-1000}
TL_BIG_ROWS=${BENCH_TL_BIG_ROWS:-100000}
SEATS=${BENCH_SEATS:-2000}
EVENTS=${BENCH_EVENTS:-1000}
# The first instant the timeline requests ask for (a Monday, UTC); pre-loaded rows lie before it.
WINDOW="2030-01-07 00:00+00"

has_part() { [[ $PARTS == *" $1 "* ]]; }
if ! has_part pool && ! has_part timeline && ! has_part seats && ! has_part managed; then
	echo "BENCH_PARTS must name pool, timeline, seats and/or managed" >&2
	exit 2
fi
if [ $((TL_BASE_ROWS % ROOMS)) != 0 ] || [ $((TL_BIG_ROWS % ROOMS)) != 0 ] || [ "$TL_BIG_ROWS" -lt "$TL_BASE_ROWS" ]; then
	echo "BENCH_TL_BASE_ROWS and BENCH_TL_BIG_ROWS must be multiples of BENCH_ROOMS, base <= big" >&2
	exit 2
fi

[ "$JOBS" -gt "$CLIENTS" ] && JOBS=$CLIENTS

STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${BENCH_OUT:-$ROOT/test/bench/out}
if ! mkdir -p "$OUT" 2>/dev/null || [ ! -w "$OUT" ]; then
	OUT=$(mktemp -d /tmp/booking-bench-out.XXXXXX)
fi
RUN=$OUT/run-$STAMP
mkdir -p "$RUN"

ensure_packages

# Everything the postgres user has to read lives in a directory of its own.
WORK=$(mktemp -d /tmp/booking-bench.XXXXXX)
chmod 755 "$WORK"
CLUSTER=$WORK/cluster
cp "$HERE"/setup.sql "$HERE"/reset.sql "$HERE"/check.sql "$HERE"/setup-timeline.sql \
	"$HERE"/reset-timeline.sql "$HERE"/check-timeline.sql "$HERE"/setup-seats.sql \
	"$HERE"/reset-seats.sql "$HERE"/check-seats.sql "$HERE"/setup-managed.sql \
	"$HERE"/reset-managed.sql "$HERE"/check-managed.sql "$WORK/"

case ${BENCH_INSTALL:-system} in
system)
	[ "${BENCH_SKIP_BUILD:-0}" = 1 ] || build_install "$ROOT"
	;;
private)
	# A copy of the PostgreSQL installation (its binaries find their lib and share directories
	# relative to themselves) with this tree's build installed into it: nobody else's install
	# replaces the module under the benchmark, and the benchmark replaces nobody's.
	say "building into a private copy of PostgreSQL $BOOKING_PG_MAJOR under $WORK/pg"
	mkdir -p "$WORK/pg/usr/lib/postgresql" "$WORK/pg/usr/share/postgresql" "$WORK/src"
	cp -a "/usr/lib/postgresql/$BOOKING_PG_MAJOR" "$WORK/pg/usr/lib/postgresql/"
	cp -a "/usr/share/postgresql/$BOOKING_PG_MAJOR" "$WORK/pg/usr/share/postgresql/"
	tar -C "$ROOT" --exclude=./.git --exclude=./test/bench/out --exclude=./.cluster -cf - . | tar -C "$WORK/src" -xf -
	make -C "$WORK/src" -s clean PG_CONFIG="$BOOKING_PG_BIN/pg_config" >/dev/null
	make -C "$WORK/src" -s PG_CONFIG="$BOOKING_PG_BIN/pg_config" \
		PG_CFLAGS="-Wall -Wextra -Werror -Wno-unused-parameter" >/dev/null
	make -C "$WORK/src" -s PG_CONFIG="$BOOKING_PG_BIN/pg_config" DESTDIR="$WORK/pg" install >/dev/null
	BOOKING_PG_BIN=$WORK/pg/usr/lib/postgresql/$BOOKING_PG_MAJOR/bin
	export PATH="$BOOKING_PG_BIN:$PATH"
	;;
*)
	echo "BENCH_INSTALL must be system or private" >&2
	exit 2
	;;
esac

# The module every run measures; a run refuses to start once it has been replaced.
MODULE=$("$BOOKING_PG_BIN/pg_config" --pkglibdir)/booking.so
module_sum() { md5sum "$MODULE" | cut -d' ' -f1; }
MODULE_SUM=$(module_sum)

cleanup() {
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "cluster left running in $CLUSTER (port $PORT)"
		return
	fi
	stop_cluster "$CLUSTER"
	rm -rf "$WORK"
}
trap cleanup EXIT

start_cluster "$CLUSTER" "$PORT"

pg() { as_pg psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# Quiet, repeatable server: no autovacuum starting in the middle of one run and not another
# (reset.sql vacuums before every run), no checkpoint forced by WAL volume during a run.
pg -c "ALTER SYSTEM SET autovacuum = off" \
	-c "ALTER SYSTEM SET max_wal_size = '16GB'" \
	-c "ALTER SYSTEM SET checkpoint_timeout = '1h'" \
	-c "SELECT pg_reload_conf()" >/dev/null

WORKLOADS=()
if has_part pool; then
	say "setting up the pool part: $RESOURCES resources, $BIG_ROWS bookings pre-loaded on each side"
	t0=$(date +%s)
	pg -v resources="$RESOURCES" -v big_rows="$BIG_ROWS" -v capacity="$CAPACITY" -f "$WORK/setup.sql" >/dev/null
	say "set up in $(($(date +%s) - t0)) s"
	WORKLOADS+=(a b c)
fi
if has_part timeline; then
	say "setting up the timeline part: $ROOMS rooms of capacity 1 and $ROOMS of capacity 3, $TL_BASE_ROWS bookings pre-loaded on each set"
	t0=$(date +%s)
	pg -v rooms="$ROOMS" -v base_rows="$((TL_BASE_ROWS / ROOMS))" -v window_start="$WINDOW" \
		-f "$WORK/setup-timeline.sql" >/dev/null
	say "set up in $(($(date +%s) - t0)) s"
	WORKLOADS+=(d u e f)
fi
if has_part seats; then
	say "setting up the seat-map part: $SEATS seats on each side"
	pg -v seats="$SEATS" -v history="${BENCH_SEATS_HISTORY:-20000}" -f "$WORK/setup-seats.sql" >/dev/null
	WORKLOADS+=(s)
fi
if has_part managed; then
	say "setting up the managed part: $EVENTS events in each of three copies of the schema"
	pg -v events="$EVENTS" -v history="${BENCH_MANAGED_HISTORY:-20}" -f "$WORK/setup-managed.sql" >/dev/null
	WORKLOADS+=(m)
fi

# Workloads: which resource a transaction books (pool), what it asks for (timeline).
declare -A RID=([a]="1" [b]="random(1001, $((1000 + RESOURCES)))" [c]="2" [m]="random(1, $EVENTS)")
declare -A WL_NAME=([a]="(a) 1 hot resource" [b]="(b) $RESOURCES resources, random"
	[c]="(c) 1 resource, $BIG_ROWS rows"
	[d]="(d) cap 1, 15-min grid" [u]="(u) cap 1, 1-hour grid"
	[e]="(e) cap 3, 15-min grid" [f]="(f) as d, $TL_BIG_ROWS rows"
	[s]="(s) seat map, $SEATS seats" [m]="(m) managed INSERT, $EVENTS ev.")
declare -A WL_PART=([a]=pool [b]=pool [c]=pool [d]=timeline [u]=timeline [e]=timeline [f]=timeline
	[s]=seats [m]=managed)
# Timeline requests: room range, number of grid steps, grid step.
declare -A TL_ROOM0=([d]=10000 [u]=10000 [e]=20000 [f]=10000)
declare -A TL_STEPS=([d]=$((DAYS * 96)) [u]=$((DAYS * 24)) [e]=$((CAP3_DAYS * 96)) [f]=$((DAYS * 96)))
declare -A TL_STEP=([d]="15 minutes" [u]="1 hour" [e]="15 minutes" [f]="15 minutes")

# Contenders: label|function|query mode|PGOPTIONS.
MAIN=("engine|booking.book_slot|prepared|"
	"P1|bench.p1_book|prepared|"
	"P2|bench.p2_book|prepared|"
	"P3|bench.p3_book|prepared|")
EXTRA=("engine/simple|booking.book_slot|simple|"
	"engine/audit-off|booking.book_slot|prepared|-c booking.audit=off"
	"engine/async|booking.book_slot|prepared|-c synchronous_commit=off"
	"P1/simple|bench.p1_book|simple|"
	"P1/async|bench.p1_book|prepared|-c synchronous_commit=off")
ENGINE="engine|booking.book_slot|prepared|"
E="E|bench.e_book|prepared|"
U="U|bench.u_book|prepared|"
P="P|bench.p_book|prepared|"
F="F|bench.s_hold|prepared|"
N="N|bench.n_book|prepared|"
TL_EXTRA=("engine/audit-off|booking.book_slot|prepared|-c booking.audit=off"
	"engine/async|booking.book_slot|prepared|-c synchronous_commit=off"
	"E/async|bench.e_book|prepared|-c synchronous_commit=off")
TL_EXTRA_E=("engine/async|booking.book_slot|prepared|-c synchronous_commit=off"
	"P/async|bench.p_book|prepared|-c synchronous_commit=off"
	"N/async|bench.n_book|prepared|-c synchronous_commit=off")

contenders_for() {
	local wl=$1
	case $wl in
	a | b | c)
		printf '%s\n' "${MAIN[@]}"
		if [ "$DIAG" = 1 ] && [ "$wl" != c ]; then
			printf '%s\n' "${EXTRA[@]}"
		fi
		;;
	d)
		printf '%s\n' "$ENGINE" "$E" "$N"
		[ "$DIAG" = 1 ] && printf '%s\n' "${TL_EXTRA[@]}"
		;;
	u) printf '%s\n' "$ENGINE" "$E" "$U" ;;
	e)
		printf '%s\n' "$ENGINE" "$P" "$N"
		[ "$DIAG" = 1 ] && printf '%s\n' "${TL_EXTRA_E[@]}"
		;;
	f) printf '%s\n' "$ENGINE" "$E" ;;
	s)
		printf '%s\n' "$ENGINE" "$F" "W|bench.seat_w|prepared|" "V|bench.seat_v|prepared|" \
			"A|bench.seat_a|prepared|" "I|bench.seat_i|prepared|"
		[ "$DIAG" = 1 ] && printf '%s\n' "engine/audit-off|booking.book_slot|prepared|-c booking.audit=off" \
			"engine/async|booking.book_slot|prepared|-c synchronous_commit=off" \
			"F/async|bench.s_hold|prepared|-c synchronous_commit=off"
		;;
	m)
		printf '%s\n' "engine|bench_m|prepared|" "R|bench_r|prepared|" "X|bench.x_register|prepared|"
		[ "$DIAG" = 1 ] && printf '%s\n' "engine/async|bench_m|prepared|-c synchronous_commit=off" \
			"R/async|bench_r|prepared|-c synchronous_commit=off"
		;;
	esac
	return 0
}

script_for() {
	local wl=$1 func=$2 file start
	file=$WORK/$wl-${func//./_}.sql
	if [ ! -f "$file" ]; then
		if [ "${WL_PART[$wl]}" = managed ] && [[ $func == bench_? ]]; then
			# what an ORM sends: one INSERT of the registration
			printf '\\set rid %s\n\\set spots random(1, 4)\nINSERT INTO %s."Registration" ("eventId", "spotsCount") VALUES (:rid, :spots);\n' \
				"${RID[$wl]}" "$func" >"$file"
		elif [ "${WL_PART[$wl]}" = pool ] || [ "${WL_PART[$wl]}" = managed ]; then
			printf '\\set rid %s\n\\set spots random(1, 4)\nSELECT %s(:rid, :spots);\n' \
				"${RID[$wl]}" "$func" >"$file"
		elif [ "${WL_PART[$wl]}" = seats ]; then
			# a group of 1 to 6 adjacent seats: held, then confirmed with the token, then
			# cancelled (so that the map stays open); three transactions per script
			{
				printf '\\set s random(30001, %d)\n\\set g random(1, 6)\n\\set e :s + :g - 1\n' $((30000 + SEATS - 5))
				if [ "$func" = bench.seat_w ]; then
					for _ in 1 2 3; do
						echo "UPDATE bench.seat_w SET n = n + 1 WHERE id BETWEEN :s AND :e;"
					done
				elif [ "$func" = bench.seat_v ]; then
					echo "WITH g AS (SELECT pg_catalog.nextval('bench.seat_v_group_seq') AS gid)," \
						"u AS (UPDATE bench.seat_v SET n = n + 1 WHERE id BETWEEN :s AND :e RETURNING id)," \
						"i AS (INSERT INTO bench.seat_v_booking (seat_id, group_id, status)" \
						"SELECT u.id, g.gid, 'held' FROM u, g RETURNING group_id)" \
						"SELECT max(group_id) AS gid FROM i \\gset"
					echo "UPDATE bench.seat_v_booking SET status = 'confirmed' WHERE group_id = :gid;"
					echo "WITH c AS (UPDATE bench.seat_v_booking SET status = 'cancelled' WHERE group_id = :gid" \
						"RETURNING seat_id) UPDATE bench.seat_v SET n = n - 1" \
						"WHERE id BETWEEN (SELECT min(seat_id) FROM c) AND (SELECT max(seat_id) FROM c);"
				elif [ "$func" = bench.seat_a ]; then
					echo "WITH g AS (SELECT pg_catalog.nextval('bench.seat_a_group_seq') AS gid)," \
						"u AS (UPDATE bench.seat_a SET n = n + 1 WHERE id BETWEEN :s AND :e RETURNING id)," \
						"i AS (INSERT INTO bench.seat_a_booking (seat_id, group_id, status, expires_at)" \
						"SELECT u.id, g.gid, 'held', pg_catalog.now() + interval '5 minutes' FROM u, g" \
						"RETURNING id, seat_id, group_id, expires_at)," \
						"q AS (INSERT INTO bench.seat_a_queue SELECT seat_id, false, id, expires_at FROM i)," \
						"a AS (INSERT INTO bench.seat_a_attempt (action, holder, resource_id, spots, ok, booking_id, status)" \
						"SELECT 'book', 'bench', seat_id, 1, true, id, 'held' FROM i)" \
						"SELECT max(group_id) AS gid FROM i \\gset"
					echo "WITH c AS (UPDATE bench.seat_a_booking SET status = 'confirmed' WHERE group_id = :gid" \
						"RETURNING id, seat_id), d AS (DELETE FROM bench.seat_a_queue q USING c" \
						"WHERE q.resource_id = c.seat_id AND NOT q.waiting AND q.booking_id = c.id)" \
						"INSERT INTO bench.seat_a_attempt (action, holder, resource_id, spots, ok, booking_id, status)" \
						"SELECT 'confirm', 'bench', seat_id, 1, true, id, 'confirmed' FROM c;"
					echo "WITH c AS (UPDATE bench.seat_a_booking SET status = 'cancelled' WHERE group_id = :gid" \
						"RETURNING id, seat_id), u AS (UPDATE bench.seat_a SET n = n - 1" \
						"WHERE id BETWEEN (SELECT min(seat_id) FROM c) AND (SELECT max(seat_id) FROM c))" \
						"INSERT INTO bench.seat_a_attempt (action, holder, resource_id, spots, ok, booking_id, status)" \
						"SELECT 'cancel', 'bench', seat_id, 1, true, id, 'cancelled' FROM c;"
				elif [ "$func" = bench.seat_i ]; then
					echo "WITH g AS (SELECT pg_catalog.nextval('bench.seat_a_group_seq') AS gid)," \
						"u AS (UPDATE bench.seat_i SET n = n + 1, hold_due = pg_catalog.now() + interval '5 minutes'" \
						"WHERE id BETWEEN :s AND :e RETURNING id)," \
						"i AS (INSERT INTO bench.seat_i_booking (seat_id, group_id, status, expires_at)" \
						"SELECT u.id, g.gid, 'held', pg_catalog.now() + interval '5 minutes' FROM u, g" \
						"RETURNING id, seat_id, group_id)," \
						"a AS (INSERT INTO bench.seat_a_attempt (action, holder, resource_id, spots, ok, booking_id, status)" \
						"SELECT 'book', 'bench', seat_id, 1, true, id, 'held' FROM i)" \
						"SELECT max(group_id) AS gid FROM i \\gset"
					echo "WITH c AS (UPDATE bench.seat_i_booking SET status = 'confirmed' WHERE group_id = :gid" \
						"RETURNING id, seat_id), u AS (UPDATE bench.seat_i SET hold_due = NULL" \
						"WHERE id BETWEEN (SELECT min(seat_id) FROM c) AND (SELECT max(seat_id) FROM c))" \
						"INSERT INTO bench.seat_a_attempt (action, holder, resource_id, spots, ok, booking_id, status)" \
						"SELECT 'confirm', 'bench', seat_id, 1, true, id, 'confirmed' FROM c;"
					echo "WITH c AS (UPDATE bench.seat_i_booking SET status = 'cancelled' WHERE group_id = :gid" \
						"RETURNING id, seat_id), u AS (UPDATE bench.seat_i SET n = n - 1" \
						"WHERE id BETWEEN (SELECT min(seat_id) FROM c) AND (SELECT max(seat_id) FROM c))" \
						"INSERT INTO bench.seat_a_attempt (action, holder, resource_id, spots, ok, booking_id, status)" \
						"SELECT 'cancel', 'bench', seat_id, 1, true, id, 'cancelled' FROM c;"
				elif [ "$func" = booking.book_slot ]; then
					# the calls as an application makes them: the group's rows read as they come
					# (\aset keeps the last row's columns: every row of a group says the same ok and
					# token, and confirm() and cancel() take any of its bookings); no aggregate
					# around them, which would be the harness's work (about 57,000 instructions per
					# script in callgrind), not the engine's
					echo "SELECT ok::int AS ok, booking_id AS bid, hold_token AS tok FROM booking.book_many(ARRAY(SELECT pg_catalog.generate_series(:s::bigint, :e::bigint)), 1, NULL, 'bench', interval '5 minutes') \\aset"
					echo '\if :ok'
					echo "SELECT id, status FROM booking.confirm(:bid, :tok::uuid);"
					echo "SELECT id, status FROM booking.cancel(:bid, whole_group => true);"
					echo '\endif'
				else
					echo "SELECT ok::int AS ok, coalesce(group_id, 0) AS gid, coalesce(token::text, '00000000-0000-0000-0000-000000000000') AS tok FROM bench.s_hold(:s, :g, 'bench') \\gset"
					echo '\if :ok'
					echo "SELECT bench.s_confirm(:gid, :tok::uuid);"
					echo "SELECT bench.s_cancel(:gid);"
					echo '\endif'
				fi
			} >"$file"
		else
			start="'$WINDOW'::timestamptz + :q * interval '${TL_STEP[$wl]}'"
			printf '\\set room random(%d, %d)\n\\set q random(0, %d)\nSELECT %s(:room, 1, tstzrange(%s, %s + interval '"'"'1 hour'"'"'));\n' \
				$((TL_ROOM0[$wl] + 1)) $((TL_ROOM0[$wl] + ROOMS)) $((TL_STEPS[$wl] - 1)) "$func" \
				"$start" "$start" >"$file"
		fi
		chmod 644 "$file"
	fi
	echo "$file"
}

# Before every run: both parts back to their starting state (f wants its extra rows).
reset_for() {
	local wl=$1
	if has_part pool; then
		pg -f "$WORK/reset.sql" >/dev/null
	fi
	if has_part timeline; then
		pg -v big="$([ "$wl" = f ] && echo 1 || echo 0)" -v big_rows="$((TL_BIG_ROWS / ROOMS))" \
			-f "$WORK/reset-timeline.sql" >/dev/null
	fi
	if has_part seats; then
		pg -f "$WORK/reset-seats.sql" >/dev/null
	fi
	if has_part managed; then
		pg -f "$WORK/reset-managed.sql" >/dev/null
	fi
}

# The checks every part makes of a run, on the variables of the run loop (rc, tps, failed, rows,
# txns, verify): pgbench finished, no transaction failed, the rows written against the
# transactions (exact: one each; atmost: at most one each; any: not checked), verify() empty.
# Prints the first that fails, or ok.
run_status() {
	if [ "$rc" != 0 ] || [ -z "$tps" ]; then
		echo "pgbench-exit-$rc"
	elif [ "${failed:-0}" != 0 ]; then
		echo "failed-$failed"
	elif [ "$1" = exact ] && [ "$rows" != "${txns:-x}" ]; then
		echo "rows-$rows-vs-txns-$txns"
	elif [ "$1" = atmost ] && [ "$rows" -gt "${txns:-0}" ]; then
		echo "rows-$rows-over-txns-$txns"
	elif [ "$verify" != 0 ]; then
		echo "verify-$verify"
	else
		echo ok
	fi
}

RESULTS=$RUN/results.tsv
printf 'round\tworkload\tcontender\ttps\ttxns\tfailed\trows\tattempts\tverify\tmismatch\tstatus\tload\tretried\n' >"$RESULTS"

total_runs=0
for wl in "${WORKLOADS[@]}"; do
	total_runs=$((total_runs + $(contenders_for "$wl" | wc -l)))
done
total_runs=$((total_runs * ROUNDS))
say "$total_runs runs of $SECS s, $CLIENTS clients, $JOBS pgbench threads; results in $RUN"

n=0
for ((round = 1; round <= ROUNDS; round++)); do
	for wl in "${WORKLOADS[@]}"; do
		mapfile -t list < <(contenders_for "$wl")
		count=${#list[@]}
		for ((i = 0; i < count; i++)); do
			# Rotate the order each round so that no contender always runs first or last.
			spec=${list[$(((i + round - 1) % count))]}
			IFS='|' read -r label func mode opts <<<"$spec"
			n=$((n + 1))

			if [ "$(module_sum)" != "$MODULE_SUM" ]; then
				echo "$MODULE was replaced during the benchmark: its figures would mix two builds" >&2
				echo "(on a shared machine, BENCH_INSTALL=private keeps a copy of its own)" >&2
				exit 1
			fi
			reset_for "$wl"
			load=$(cut -d' ' -f1 /proc/loadavg)

			log=$RUN/r$round-$wl-${label//\//-}.log
			script=$(script_for "$wl" "$func")
			# Timeline attempts are retried on a deadlock or a serialization failure, as an
			# application would: concurrent INSERTs that meet on E's exclusion constraint can
			# deadlock (40P01).  Retries are counted in the results.
			tries=1
			[ "${WL_PART[$wl]}" = timeline ] && tries=10
			rc=0
			as_pg env PGOPTIONS="$opts" pgbench -n -c "$CLIENTS" -j "$JOBS" -T "$SECS" -M "$mode" \
				--max-tries="$tries" -f "$script" postgres >"$log" 2>&1 || rc=$?

			tps=$(awk '/^tps = / { print $3; exit }' "$log")
			txns=$(awk -F': ' '/^number of transactions actually processed/ { split($2, a, "/"); print a[1]; exit }' "$log")
			failed=$(awk -F': ' '/^number of failed transactions/ { split($2, a, " "); print a[1]; exit }' "$log")
			retried=$(awk -F': ' '/^number of transactions retried/ { split($2, a, " "); print a[1]; exit }' "$log")
			status=ok
			audit_on=1
			[[ $opts == *audit=off* ]] && audit_on=0
			if [ "${WL_PART[$wl]}" = pool ]; then
				IFS='|' read -r erows attempts verify prows mismatch < <(pg -At -f "$WORK/check.sql")
				rows=$prows
				[[ $label == engine* ]] && rows=$erows
				# A run counts only if every transaction booked exactly one row on the
				# contender's side and the counters still agree with the rows.
				status=$(run_status exact)
				if [ "$status" != ok ]; then
					:
				elif [[ $label == engine* ]] && [ "$audit_on" = 1 ] && [ "$attempts" != "$txns" ]; then
					status="attempts-$attempts"
				elif [[ $label == P1* || $label == P2* ]] && [ "$mismatch" != 0 ]; then
					status="counter-mismatch-$mismatch"
				fi
			elif [ "${WL_PART[$wl]}" = managed ]; then
				IFS='|' read -r mrows verify mmismatch rrows xrows xmismatch \
					< <(pg -At -f "$WORK/check-managed.sql")
				attempts=0
				case $label in
				engine*) rows=$mrows mismatch=$mmismatch ;;
				R*) rows=$rrows mismatch=0 ;;
				X*) rows=$xrows mismatch=$xmismatch ;;
				esac
				# A run counts only if every transaction wrote its row, verify() is empty and
				# every counter of the managed and FOR UPDATE copies equals its rows.
				status=$(run_status exact)
				if [ "$status" = ok ] && [ "$mismatch" != 0 ]; then
					status="counter-mismatch-$mismatch"
				fi
			elif [ "${WL_PART[$wl]}" = seats ]; then
				IFS='|' read -r egroups attempts verify etwice pgroups ptwice \
					< <(pg -At -f "$WORK/check-seats.sql")
				rows=$pgroups mismatch=$ptwice
				[[ $label == engine* ]] && rows=$egroups mismatch=$etwice
				[[ $label == W* || $label == V* || $label == A* || $label == I* ]] && rows=0 mismatch=0
				# A run counts only if no script failed, no seat was sold twice on either side
				# and verify() is empty; rows = groups confirmed.
				status=$(run_status any)
				if [ "$status" = ok ] && [ "$mismatch" != 0 ]; then
					status="seats-sold-twice-$mismatch"
				fi
			else
				IFS='|' read -r erows attempts attempts_ok verify eover xrows xover urows uover crows cover \
					nrows < <(pg -At -f "$WORK/check-timeline.sql")
				case $label in
				engine*) rows=$erows mismatch=$eover ;;
				E*) rows=$xrows mismatch=$xover ;;
				U*) rows=$urows mismatch=$uover ;;
				P*) rows=$crows mismatch=$cover ;;
				N*) rows=$nrows mismatch=0 ;;
				esac
				# A run counts only if no transaction failed, at most one row per attempt went
				# in, the engine's audit agrees (one row per attempt, ok exactly for the rows
				# written), verify() is empty, and the sweep finds no room over capacity.
				status=$(run_status atmost)
				if [ "$status" != ok ]; then
					:
				elif [ "$mismatch" != 0 ]; then
					status="rooms-over-capacity-$mismatch"
				elif [[ $label == engine* ]] && [ "$audit_on" = 1 ] &&
					{ [ "$attempts" != "$txns" ] || [ "$attempts_ok" != "$rows" ]; }; then
					status="attempts-$attempts-ok-$attempts_ok"
				fi
			fi
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$wl" "$label" "${tps:-0}" \
				"${txns:-0}" "${failed:-0}" "$rows" "$attempts" "$verify" "$mismatch" "$status" "$load" \
				"${retried:-0}" >>"$RESULTS"
			printf '[%3d/%d] round %d  %-32s %-17s %10.1f tps  %s\n' "$n" "$total_runs" "$round" \
				"${WL_NAME[$wl]}" "$label" "${tps:-0}" "$status" >&2
		done
	done
done

version=$(pg -At -c "SHOW server_version")
commit=${BENCH_COMMIT:-$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)}
SUMMARY=$RUN/summary.txt
{
	echo "booking bench, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit, PostgreSQL $version, $(nproc) CPUs"
	echo "$CLIENTS clients, $JOBS pgbench threads, $SECS s per run, $ROUNDS rounds (contender order rotated)," \
		"booking.audit on, synchronous_commit on, -M prepared"
	if has_part pool; then
		echo "pool (a-c): spots random 1-4, capacity never reached: every attempt books"
	fi
	if has_part timeline; then
		echo "timeline (d-f): one attempt per transaction, 1 spot, a 1-hour range starting at random on the grid," \
			"a random room of $ROOMS; cap 1 over $DAYS days, cap 3 over $CAP3_DAYS days from $WINDOW;" \
			"$TL_BASE_ROWS bookings per set before the window ($TL_BIG_ROWS on f); P checks the peak load per instant"
	fi
	if has_part seats; then
		echo "seat map (s): $SEATS seats of one place; a script holds a group of 1-6 adjacent seats, confirms it" \
			"with its token and cancels it (3 transactions; TPS counts scripts); F: the same flow in PL/pgSQL" \
			"with SELECT ... FOR UPDATE"
	fi
	if has_part managed; then
		echo "managed (m): a plain INSERT of a registration of 1-4 spots for a random one of $EVENTS events" \
			"(capacity never reached); R: the same INSERT with no protection; X: SELECT ... FOR UPDATE in PL/pgSQL"
	fi
	echo
	names=""
	for wl in "${WORKLOADS[@]}"; do
		names="$names${names:+;}$wl=${WL_NAME[$wl]}"
	done
	awk -F'\t' -v names="$names" -v wls="${WORKLOADS[*]}" -f "$HERE/summarize.awk" "$RESULTS"
} | tee "$SUMMARY"
cp "$SUMMARY" "$OUT/summary-latest.txt" 2>/dev/null || true
say "saved: $SUMMARY (raw figures: $RESULTS)"

if ! awk -F'\t' 'NR > 1 && $11 != "ok" { exit 1 }' "$RESULTS"; then
	say "some runs did not count (see the status column of $RESULTS)"
	exit 1
fi
