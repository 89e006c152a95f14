#!/usr/bin/env bash
# Stress test of booking's capacity pools: many writers at once, every invariant checked at the end.
#
# Creates its own database (booking_stress, dropped first), a few hundred pool resources with
# small random capacities, and for STRESS_SECONDS runs at the same time:
#   - pgbench, STRESS_CLIENTS clients, mixing the scripts next to this file: book_slot() of 1-4
#     spots (book.sql), cancel() of an active booking (cancel.sql, with a reason; cancel_race.sql,
#     without one, racing the others for its row), direct UPDATEs of status and spots and direct
#     DELETEs (release.sql, shrink.sql, delete.sql).  None of them can raise an error when the
#     engine is right, so a pgbench client that aborts is a failure;
#   - STRESS_DIRECT psql sessions writing the table directly the way an application would,
#     statements that may well be refused: INSERTs and COPYs that ask for more than is left,
#     UPDATEs that grow spots, admit waitlisted rows or move rows to another resource, and
#     capacity changes on booking.resource.  The only error allowed is 23514 on constraint
#     booking_capacity, and its detail must show that the refusal was right;
#   - a checker that, once a second, reads verify() and an independent count of the rows in one
#     snapshot while the load runs: both must be empty at every instant.
# Then checks, in plain SQL and independently of the engine, that every counter equals the
# spots its consuming rows hold and none exceeds capacity, that verify() is empty, that the
# audit holds a row for every book_slot() call pgbench counted, and that every booking book_slot()
# reported is still in the table or was deleted by the load.  Prints a summary; exits 1 on any
# violation.
#
# Then runs the timeline part, timeline.sh (see its header): 20 clients racing for one slot, and
# random ranges on capacity-1 and capacity-3 timeline resources checked by an independent sweep;
# and the lifecycle part, lifecycle.sh (see its header): holds of short random lifetimes,
# confirms, releases, extends, cancels and waitlists on a few resources, with every invariant
# and each waitlist's arrival order checked at the end.  Exits 1 when any part fails.
#
# Connects where PGHOST/PGPORT/PGUSER point (a superuser; the extension must be installed).
# Knobs: STRESS_DB, STRESS_RESOURCES, STRESS_HOT, STRESS_CLIENTS, STRESS_SECONDS, STRESS_DIRECT,
# STRESS_SEED (replays pgbench's random choices and the direct sessions' statements).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DB=${STRESS_DB:-booking_stress}
NRES=${STRESS_RESOURCES:-300}
HOT=${STRESS_HOT:-8}
CLIENTS=${STRESS_CLIENTS:-16}
SECONDS_RUN=${STRESS_SECONDS:-25}
DIRECT=${STRESS_DIRECT:-4}
SEED=${STRESS_SEED:-$(((RANDOM << 15) | RANDOM))}

# shellcheck source=lib.sh
source "$HERE/lib.sh"
stress_workdir booking-stress

# Resources whose counter is not what their rows hold, or exceeds capacity, written without
# the engine's help: one row per broken resource.
INVARIANT_SQL="
SELECT r.id, r.capacity, r.spots_reserved, COALESCE(c.n, 0) AS counted
  FROM booking.resource r
  LEFT JOIN (SELECT b.resource_id, sum(b.spots) AS n
               FROM booking.booking b
              WHERE b.status IN ('held', 'pending', 'confirmed', 'completed')
              GROUP BY b.resource_id) c ON c.resource_id = r.id
 WHERE r.spots_reserved <> COALESCE(c.n, 0)
    OR r.spots_reserved > r.capacity
    OR r.spots_reserved < 0"

echo "stress: db=$DB resources=$NRES hot=$HOT clients=$CLIENTS direct=$DIRECT seconds=$SECONDS_RUN seed=$SEED"

# ---------------------------------------------------------------------------------------------
# Setup
# ---------------------------------------------------------------------------------------------
dropdb --if-exists "$DB" || exit 1
createdb "$DB" || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL || { echo "stress: setup failed"; exit 1; }
CREATE EXTENSION booking;
SELECT setseed(($SEED % 2000000) / 1000000.0 - 1.0) \\g /dev/null
INSERT INTO booking.resource (name, capacity)
SELECT format('stress %s', g), floor(random() * 9)::int
  FROM generate_series(1, $NRES) g;
CREATE SCHEMA stress;
CREATE TABLE stress.deleted (
	id bigint PRIMARY KEY,
	resource_id bigint NOT NULL,
	spots int NOT NULL,
	status booking.status NOT NULL
);
CREATE TABLE stress.cancelled_plain (id bigint PRIMARY KEY);
CREATE TABLE stress.cancel_missed (sqlstate text NOT NULL);
CREATE FUNCTION stress.cancel_plain(p_id bigint) RETURNS void LANGUAGE plpgsql AS \$\$
BEGIN
	IF p_id IS NULL THEN
		RETURN;
	END IF;
	INSERT INTO stress.cancelled_plain SELECT id FROM booking.cancel(p_id);
EXCEPTION WHEN object_not_in_prerequisite_state OR no_data_found THEN
	INSERT INTO stress.cancel_missed VALUES (SQLSTATE);
END
\$\$;
SQL
# The scripts pick resources as 1..NRES.
if [ "$(q "SELECT min(id) || ' ' || max(id) || ' ' || count(*) FROM booking.resource")" != "1 $NRES $NRES" ]; then
	echo "stress: resources are not numbered 1..$NRES"
	exit 1
fi
total_capacity=$(q "SELECT sum(capacity) FROM booking.resource")
echo "stress: $NRES resources, $total_capacity spots in all"

# ---------------------------------------------------------------------------------------------
# Direct writers: statements an application or a DBA writes, some of which must be refused
# ---------------------------------------------------------------------------------------------

# A random booking of resource $1 whose status is in the list $2 (a subquery; NULL when none).
pick() {
	printf "(SELECT b.id FROM booking.booking b WHERE b.resource_id = %d AND b.status IN (%s) ORDER BY random() LIMIT 1)" "$1" "$2"
}

# Writes statements for psql until the deadline (seconds of bash's clock) passes.
direct_statements() {
	local deadline=$1 r r2 s k
	echo '\set VERBOSITY verbose'
	while ((SECONDS < deadline)); do
		if ((RANDOM % 4 == 0)); then r=$((RANDOM % HOT + 1)); else r=$((RANDOM % NRES + 1)); fi
		r2=$((RANDOM % NRES + 1))
		s=$((RANDOM % 4 + 1))
		case $((RANDOM % 8)) in
		0 | 1)
			echo "INSERT INTO booking.booking (resource_id, holder, spots) VALUES ($r, 'direct', $s);"
			;;
		2)
			echo "UPDATE booking.booking SET spots = spots + $s, updated_at = now() WHERE id = $(pick "$r" "'held', 'pending', 'confirmed', 'completed'");"
			;;
		3)
			# a waitlisted row written, and one admitted (cancelled and expired are final)
			k=$((RANDOM % 3))
			echo "INSERT INTO booking.booking (resource_id, holder, spots, status) VALUES ($r, 'direct-wait', $s, 'waitlisted');"
			echo "UPDATE booking.booking SET status = '$( ((k == 0)) && echo pending || echo confirmed)', updated_at = now() WHERE id = $(pick "$r" "'waitlisted'") AND status = 'waitlisted';"
			;;
		4)
			echo "UPDATE booking.booking SET resource_id = $r2, updated_at = now() WHERE id = $(pick "$r" "'held', 'pending', 'confirmed', 'completed', 'cancelled'");"
			;;
		5)
			# Raise by one, or set it right at the reservations (k = 0 must pass), just above,
			# or one below (must be refused): the counter read here is the locked row's.
			k=$((RANDOM % 5 - 1))
			if ((k == 3)); then
				echo "UPDATE booking.resource SET capacity = capacity + 1 WHERE id = $r;"
			else
				echo "UPDATE booking.resource SET capacity = greatest(spots_reserved + $k, 0) WHERE id = $r;"
			fi
			;;
		6)
			# three rows on (up to) three resources, in ascending resource order: a write that
			# locks several resources one row at a time must take them in that order, or two
			# such writes in opposite orders deadlock (concepts.md, "Several resources in one
			# transaction"; an earlier version wrote them unsorted and met 40P01 now and then)
			echo "COPY booking.booking (resource_id, holder, spots) FROM STDIN;"
			printf '%d\tdirect-copy\t%d\n' "$r" "$s" "$r2" 1 "$((RANDOM % HOT + 1))" "$((RANDOM % 2 + 1))" |
				sort -n
			echo '\.'
			;;
		7)
			echo "UPDATE booking.booking SET status = 'held', expires_at = now() + interval '1 day', updated_at = now() WHERE id = $(pick "$r" "'waitlisted'") AND status = 'waitlisted';"
			;;
		esac
	done
}

# Reads a direct session's stderr: every error must be 23514 on booking_capacity with a detail
# that proves the refusal (requested more than capacity less reserved, or capacity lowered
# below reserved).  Prints "refusals N" and one "unexpected ..." line per other error.
check_direct_errors() {
	awk '
	function flush() {
		if (code == "") return
		if (code != "23514" || constraint != "booking_capacity")
			printf "unexpected %s (constraint %s): %s\n", code, constraint, msg
		else if (match(detail, /Capacity is [0-9]+, reserved is [0-9]+, requested is [0-9]+\./)) {
			split(detail, w, /[^0-9]+/)
			if (w[3] + w[4] <= w[2]) printf "unexpected refusal with room left: %s\n", detail
			else n++
		} else if (match(detail, /Capacity would be [0-9]+, reserved is [0-9]+\./)) {
			split(detail, w, /[^0-9]+/)
			if (w[3] <= w[2]) printf "unexpected refusal of a capacity that fits: %s\n", detail
			else n++
		} else
			printf "unexpected detail for %s: %s\n", msg, detail
		code = ""; constraint = ""; detail = ""; msg = ""
	}
	/ERROR:  / { flush(); msg = $0; code = $0; sub(/.*ERROR:  /, "", code); sub(/:.*/, "", code); next }
	/^DETAIL:  / { detail = $0; next }
	/^CONSTRAINT NAME:  / { constraint = $3; next }
	/^(SCHEMA NAME|TABLE NAME|LOCATION|CONTEXT|HINT):/ { next }
	{ printf "unexpected: %s\n", $0 }
	END { flush(); printf "refusals %d\n", n }
	' "$@"
}

# ---------------------------------------------------------------------------------------------
# The load
# ---------------------------------------------------------------------------------------------
deadline=$((SECONDS + SECONDS_RUN))

for i in $(seq 1 "$DIRECT"); do
	(
		RANDOM=$((SEED + i))
		direct_statements "$deadline" |
			psql -X -d "$DB" -v ON_ERROR_STOP=0 -f - >"$WORK/direct.$i.out" 2>"$WORK/direct.$i.err"
	) &
	PIDS+=($!)
done

# Checker: verify() and the independent count, in one statement, hence one snapshot.
(
	n=0
	while ((SECONDS < deadline)); do
		psql -X -q -At -d "$DB" -c "
			SELECT 'verify', v.resource_id, v.capacity, v.spots_reserved, v.counted, v.problem
			  FROM booking.verify() v
			UNION ALL
			SELECT 'independent', i.id, i.capacity, i.spots_reserved, i.counted, NULL
			  FROM ($INVARIANT_SQL) i" >>"$WORK/checker.out" 2>>"$WORK/checker.err"
		n=$((n + 1))
		sleep 1
	done
	echo "$n" >"$WORK/checker.count"
) &
PIDS+=($!)

pgbench -n -M prepared -c "$CLIENTS" -j 4 -T "$SECONDS_RUN" --random-seed="$SEED" \
	-D nres="$NRES" -D hot="$HOT" \
	-f "$HERE/book.sql@8" -f "$HERE/cancel.sql@3" -f "$HERE/cancel_race.sql@2" -f "$HERE/release.sql@2" \
	-f "$HERE/shrink.sql@1" -f "$HERE/delete.sql@1" \
	"$DB" >"$WORK/pgbench.out" 2>"$WORK/pgbench.err"
pgbench_rc=$?
wait "${PIDS[@]}"
PIDS=()

# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------
check_load "$pgbench_rc" book.sql '^(INSERT 0 1|UPDATE 1|COPY [0-9]+)$'

# Counters against rows, independently of the engine, then the engine's own verify().
broken=$(psql -X -q -At -d "$DB" -c "$INVARIANT_SQL")
if [ -n "$broken" ]; then
	violation "counters differ from rows or exceed capacity (id|capacity|reserved|counted):"
	head -20 <<<"$broken"
fi
verified=$(psql -X -q -At -d "$DB" -c "SELECT * FROM booking.verify()")
if [ -n "$verified" ]; then
	violation "booking.verify() is not empty:"
	head -20 <<<"$verified"
fi
bad_avail=$(q "SELECT count(*) FROM booking.resource WHERE booking.availability(id) <> greatest(capacity - spots_reserved, 0)")
[ "$bad_avail" = 0 ] || violation "availability() disagrees with capacity - spots_reserved on $bad_avail resources"

# The audit: one row per book_slot() call; an ok row names its confirmed booking, a refusal
# names none and says why.
read -r attempts made refused bad_attempts <<<"$(q "
	SELECT count(*), count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok),
	       count(*) FILTER (WHERE (ok AND (booking_id IS NULL OR status <> 'confirmed'))
	                           OR (NOT ok AND (booking_id IS NOT NULL OR reason IS DISTINCT FROM 'full')))
	  FROM booking.attempt WHERE action = 'book'" | tr '|' ' ')"
# pgbench -T leaves uncounted a transaction that a client had in flight when time ran out, so
# the audit may hold up to one row per client more than pgbench reports, never fewer.
if [ -z "$book_tx" ] || [ "$attempts" -lt "$book_tx" ] || [ "$attempts" -gt $((book_tx + CLIENTS)) ]; then
	violation "booking.attempt holds $attempts book rows, pgbench ran ${book_tx:-an unknown number of} book.sql transactions"
fi
[ "$bad_attempts" = 0 ] || violation "$bad_attempts audit rows contradict their outcome"
cancels=$(q "SELECT count(*) FROM booking.booking WHERE meta->>'cancel_reason' = 'stress'")

# Every booking book_slot() reported is still there or was deleted by delete.sql; every row
# holder 'pgbench' has came from a reported booking.
lost=$(q "SELECT count(*) FROM booking.attempt a
	WHERE a.action = 'book' AND a.ok
	  AND NOT EXISTS (SELECT 1 FROM booking.booking b WHERE b.id = a.booking_id)
	  AND NOT EXISTS (SELECT 1 FROM stress.deleted d WHERE d.id = a.booking_id)")
[ "$lost" = 0 ] || violation "$lost bookings reported by book_slot() are gone without a DELETE"
unaudited=$(q "SELECT count(*) FROM booking.booking b WHERE b.holder = 'pgbench'
	AND NOT EXISTS (SELECT 1 FROM booking.attempt a WHERE a.action = 'book' AND a.ok AND a.booking_id = b.id)")
[ "$unaudited" = 0 ] || violation "$unaudited bookings of book_slot() have no audit row"
# Every change of status is audited by the trigger, cancel()'s and the direct UPDATEs' alike:
# each audit row of a cancellation says cancelled, and every booking cancel() cancelled (its
# meta carries the reason) that is still there has its audit row.
cancelled_wrong=$(q "SELECT count(*) FROM booking.attempt a
	WHERE a.action IN ('cancel', 'release') AND (NOT a.ok OR a.status <> 'cancelled')")
[ "$cancelled_wrong" = 0 ] || violation "$cancelled_wrong cancellation audit rows do not say cancelled"
cancel_unaudited=$(q "SELECT count(*) FROM booking.booking b
	WHERE b.meta->>'cancel_reason' = 'stress'
	  AND NOT EXISTS (SELECT 1 FROM booking.attempt a WHERE a.booking_id = b.id AND a.action IN ('cancel', 'release'))")
[ "$cancel_unaudited" = 0 ] || violation "$cancel_unaudited bookings cancelled by cancel() have no audit row"
# cancel() with no reason, racing (cancel_race.sql): what it cancelled is cancelled still, or was
# deleted, and audited; a run in which it cancelled nothing has not tested it.
read -r plain_cancels plain_missed plain_wrong <<<"$(q "
	SELECT (SELECT count(*) FROM stress.cancelled_plain),
	       (SELECT count(*) FROM stress.cancel_missed),
	       (SELECT count(*) FROM stress.cancelled_plain p
	         WHERE NOT EXISTS (SELECT 1 FROM stress.deleted d WHERE d.id = p.id)
	           AND (NOT EXISTS (SELECT 1 FROM booking.booking b WHERE b.id = p.id AND b.status = 'cancelled')
	                OR NOT EXISTS (SELECT 1 FROM booking.attempt a
	                                WHERE a.booking_id = p.id AND a.action IN ('cancel', 'release'))))" | tr '|' ' ')"
[ "${plain_wrong:-1}" = 0 ] || violation "$plain_wrong bookings cancelled by cancel() without a reason are not cancelled, or not audited"
[ "${plain_cancels:-0}" -gt 0 ] || violation "cancel() without a reason never cancelled anything"

# A run in which nothing was refused, or nothing admitted, has not tested the boundary.
[ "${made:-0}" -gt 0 ] || violation "book_slot() admitted nothing"
[ "${refused:-0}" -gt 0 ] || violation "book_slot() refused nothing: the pools never filled"
[ "$direct_refused" -gt 0 ] || violation "no direct write was refused: the 23514 path was not exercised"
[ "$direct_ok" -gt 0 ] || violation "no direct write succeeded"
[ "$cancels" -gt 0 ] || violation "cancel() never ran"

read -r rows active reserved capacity <<<"$(q "
	SELECT (SELECT count(*) FROM booking.booking),
	       (SELECT count(*) FROM booking.booking WHERE status IN ('held', 'pending', 'confirmed', 'completed')),
	       (SELECT sum(spots_reserved) FROM booking.resource),
	       (SELECT sum(capacity) FROM booking.resource)" | tr '|' ' ')"
deleted=$(q "SELECT count(*) FROM stress.deleted")

cat <<SUMMARY
stress: summary after ${SECONDS_RUN}s, seed $SEED
  pgbench:         ${total_tx:-?} transactions, tps ${tps:-?}, $CLIENTS clients
  book_slot():     $attempts calls, $made bookings made, $refused refused as full
  cancel():        $cancels cancelled rows still in the table; without a reason, racing: $plain_cancels cancelled, $plain_missed found over or gone
  direct writes:   $direct_ok succeeded, $direct_refused refused with 23514 booking_capacity (from $DIRECT psql sessions)
  deleted:         $deleted bookings by direct DELETE
  live checks:     $checks snapshots of verify() + independent count during the load
  end state:       $rows booking rows, $active consuming, $reserved spots reserved of $capacity
  violations:      $violations
SUMMARY

pool_rc=0
if [ "$violations" -gt 0 ]; then
	echo "stress: pool part FAILED (kept database $DB for inspection)"
	pool_rc=1
else
	echo "stress: pool part PASSED"
fi

# The timeline part (timeline.sh, its own database), replaying from the same seed unless
# TL_SEED says otherwise; then the lifecycle part (lifecycle.sh, its own database: holds,
# confirms, releases, cancels and waitlists), likewise with LC_SEED.  The suite fails when any
# part does.
TL_SEED=${TL_SEED:-$SEED} bash "$HERE/timeline.sh"
tl_rc=$?
LC_SEED=${LC_SEED:-$SEED} bash "$HERE/lifecycle.sh"
lc_rc=$?
if ((pool_rc != 0 || tl_rc != 0 || lc_rc != 0)); then
	echo "stress: FAILED (pool part rc $pool_rc, timeline part rc $tl_rc, lifecycle part rc $lc_rc)"
	exit 1
fi
echo "stress: PASSED"
exit 0
