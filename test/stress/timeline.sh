#!/usr/bin/env bash
# Stress test of booking's timeline resources: capacity at every instant under many writers.
#
# Creates its own database (booking_stress_tl, dropped first) and runs two parts:
#
# 1. The race: TL_RACE clients (20) call book_slot() for the same hour of one capacity-1
#    resource at once, each under its own holder.  To make "at once" true rather than likely,
#    a blocker session holds the resource's row lock until every client is waiting on a lock,
#    then lets them all go.  Exactly one booking must come out, and the audit must hold one
#    ok row and TL_RACE - 1 refusals with reason 'conflict', one per holder.
#
# 2. The load: for TL_SECONDS, TL_CLIENTS pgbench clients book random ranges (a start on a
#    5-minute grid over TL_DAYS days, 15 to 120 minutes long) on capacity-1 resources, some with
#    buffers, and capacity-3 resources asking 1 or 2 spots (tl_book.sql), and cancel random
#    active bookings (tl_cancel.sql); none of that may raise an error.  At the same time
#    TL_DIRECT psql sessions write the table directly: reschedules (UPDATE of during: shifted,
#    stretched, moved anywhere), INSERTs with a range, spots changes on capacity-3 resources,
#    waitlisted requests admitted, moves to another resource.  The only error they may meet is
#    23P01 on booking_no_overlap, whose detail must show the refusal was right.  Once a second a
#    checker reads the sweep below and verify() in one snapshot: both must stay empty.
#
# At the end the checker, written without the engine's help in plain SQL: for each timeline
# resource, every consuming booking is an event at lower(during) - buffer_before (+spots) and
# one at upper(during) + buffer_after (-spots) (a block: its own range, the whole capacity);
# ends sort before starts at the same instant (ranges are half-open); a running sum over them is
# the load at every instant, which must never exceed capacity.  Counters must equal the spots
# of the consuming rows and verify() must be empty.  Any violation prints the offending rows
# and makes the script exit 1.
#
# Connects where PGHOST/PGPORT/PGUSER point (a superuser; the extension must be installed).
# Knobs: TL_DB, TL_RACE, TL_CLIENTS, TL_SECONDS, TL_DIRECT, TL_DAYS, TL_SEED (replays pgbench's
# random choices and the direct sessions' statements; defaults to STRESS_SEED when set).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DB=${TL_DB:-booking_stress_tl}
RACE=${TL_RACE:-20}
CLIENTS=${TL_CLIENTS:-16}
SECONDS_RUN=${TL_SECONDS:-15}
DIRECT=${TL_DIRECT:-3}
DAYS=${TL_DAYS:-3}
SEED=${TL_SEED:-${STRESS_SEED:-$(((RANDOM << 15) | RANDOM))}}

# Resource ids, fixed by the order of the INSERT below: 1 is the race's room; C1LO..C1HI have
# capacity 1, C3LO..C3HI capacity 3.
ROOM=1
C1LO=2
C1HI=7
C3LO=8
C3HI=11

# shellcheck source=lib.sh
source "$HERE/lib.sh"
stress_workdir booking-stress-tl

# The sweep, the counters and verify(): lib.sh's SWEEP_SQL, COUNTER_SQL and VERIFY_SQL.

echo "stress-tl: db=$DB race=$RACE clients=$CLIENTS direct=$DIRECT seconds=$SECONDS_RUN days=$DAYS seed=$SEED"

# ---------------------------------------------------------------------------------------------
# Setup
# ---------------------------------------------------------------------------------------------
dropdb --if-exists "$DB" || exit 1
createdb "$DB" || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL || { echo "stress-tl: setup failed"; exit 1; }
CREATE EXTENSION booking;
INSERT INTO booking.resource (name, capacity, timeline, buffer_before, buffer_after) VALUES
	('race room', 1, true, '0', '0'),
	('room a', 1, true, '0', '0'),
	('room b', 1, true, '0', '0'),
	('room c', 1, true, '0', '10 minutes'),
	('room d', 1, true, '0', '10 minutes'),
	('room e', 1, true, '5 minutes', '10 minutes'),
	('room f', 1, true, '15 minutes', '0'),
	('court a', 3, true, '0', '0'),
	('court b', 3, true, '0', '0'),
	('court c', 3, true, '0', '10 minutes'),
	('court d', 3, true, '15 minutes', '10 minutes');
SQL
if [ "$(q "SELECT string_agg(id || ':' || capacity, ' ' ORDER BY id) FROM booking.resource")" != \
	"1:1 2:1 3:1 4:1 5:1 6:1 7:1 8:3 9:3 10:3 11:3" ]; then
	echo "stress-tl: resources are not numbered as the scripts expect"
	exit 1
fi

# ---------------------------------------------------------------------------------------------
# Part 1: the race for one slot
# ---------------------------------------------------------------------------------------------
# The blocker takes the room's row lock, which every book_slot() of the room needs, and keeps
# it until RACE pgbench sessions wait on a lock (or 20 s pass); it prints how many it saw.
psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" >"$WORK/blocker.out" 2>"$WORK/blocker.err" <<SQL &
SET application_name = 'tl-blocker';
BEGIN;
SELECT 1 FROM booking.resource WHERE id = $ROOM FOR UPDATE \\g /dev/null
DO \$\$
DECLARE
	n int;
	t timestamptz := clock_timestamp();
BEGIN
	LOOP
		PERFORM pg_stat_clear_snapshot();
		SELECT count(*) INTO n
		  FROM pg_stat_activity
		 WHERE datname = current_database() AND application_name = 'pgbench'
		   AND wait_event_type = 'Lock';
		EXIT WHEN n >= $RACE OR clock_timestamp() > t + interval '20 seconds';
		PERFORM pg_sleep(0.02);
	END LOOP;
	RAISE NOTICE 'waiting %', n;
END
\$\$;
COMMIT;
SQL
blocker=$!
PIDS+=("$blocker")
# pgbench starts once the blocker holds the row lock (its transaction has an xid).
for _ in $(seq 1 200); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tl-blocker' AND backend_xid IS NOT NULL")" = 1 ] && break
	sleep 0.05
done
pgbench -n -M prepared -c "$RACE" -j 4 -t 1 -D room="$ROOM" -f "$HERE/tl_race.sql" \
	"$DB" >"$WORK/race.out" 2>"$WORK/race.err"
race_rc=$?
wait "$blocker"
blocker_rc=$?
PIDS=()
race_waiting=$(sed -nE 's/.*NOTICE:  waiting ([0-9]+).*/\1/p' "$WORK/blocker.err")
if [ "$blocker_rc" != 0 ] || [ -z "$race_waiting" ]; then
	violation "the race's blocker session failed:"
	cat "$WORK/blocker.err"
elif [ "$race_waiting" != "$RACE" ]; then
	violation "only $race_waiting of $RACE race clients were waiting together when the slot was released"
fi
race_tx=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$WORK/race.out")
if [ "$race_rc" != 0 ] || [ "$race_tx" != "$RACE" ]; then
	violation "race pgbench exited with $race_rc after ${race_tx:-?} transactions:"
	grep -E 'ERROR|aborted|FATAL' "$WORK/race.err" | head -10
fi
read -r race_rows race_winner <<<"$(q "
	SELECT count(*), string_agg(holder, ',')
	  FROM booking.booking WHERE resource_id = $ROOM AND status IN ($CONSUMING)" | tr '|' ' ')"
read -r race_attempts race_ok race_conflict race_holders race_odd <<<"$(q "
	SELECT count(*), count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok AND reason = 'conflict'),
	       count(DISTINCT holder),
	       count(*) FILTER (WHERE (ok AND booking_id IS NULL) OR (NOT ok AND booking_id IS NOT NULL)
	                           OR holder !~ '^c[0-9]+\$'
	                           OR during <> tstzrange('2030-01-06 10:00+00', '2030-01-06 11:00+00'))
	  FROM booking.attempt WHERE action = 'book' AND resource_id = $ROOM" | tr '|' ' ')"
if [ "$race_rows" != 1 ]; then
	violation "the race left $race_rows consuming bookings on the room (holders: ${race_winner:-none}), not 1:"
	psql -X -d "$DB" -c "SELECT id, holder, spots, status, during FROM booking.booking WHERE resource_id = $ROOM ORDER BY id"
fi
if [ "$race_attempts" != "$RACE" ] || [ "$race_ok" != 1 ] || [ "$race_conflict" != $((RACE - 1)) ] ||
	[ "$race_holders" != "$RACE" ] || [ "$race_odd" != 0 ]; then
	violation "the race's audit: $race_attempts calls, $race_ok ok, $race_conflict conflicts, $race_holders holders, $race_odd odd rows (want $RACE, 1, $((RACE - 1)), $RACE, 0):"
	psql -X -d "$DB" -c "SELECT id, holder, ok, reason, booking_id, during FROM booking.attempt WHERE resource_id = $ROOM ORDER BY id"
fi
race_winner_ok=$(q "SELECT count(*) FROM booking.attempt a JOIN booking.booking b ON b.id = a.booking_id
	WHERE a.resource_id = $ROOM AND a.ok AND b.holder = a.holder")
[ "$race_winner_ok" = 1 ] || violation "the race's winning audit row does not name the booking its holder got"

# ---------------------------------------------------------------------------------------------
# Part 2: the load
# ---------------------------------------------------------------------------------------------
# A random booking of resource $1 whose status is in the list $2 (a subquery; NULL when none).
pick() {
	printf "(SELECT b.id FROM booking.booking b WHERE b.resource_id = %d AND b.status IN (%s) ORDER BY random() LIMIT 1)" "$1" "$2"
}

# A range on the grid of the load: start $1 (in 5-minute steps from 2030-01-07), $2 steps long.
grid_range() {
	printf "tstzrange(timestamptz '2030-01-07 00:00+00' + make_interval(mins => %d), timestamptz '2030-01-07 00:00+00' + make_interval(mins => %d))" \
		$((5 * $1)) $((5 * ($1 + $2)))
}

# Writes statements for psql until the deadline (seconds of bash's clock) passes.  Each UPDATE
# repeats the status condition so that a row cancelled in the meantime is left alone.
direct_statements() {
	local deadline=$1 r r2 s d
	echo '\set VERBOSITY verbose'
	while ((SECONDS < deadline)); do
		r=$((RANDOM % (C3HI - C1LO + 1) + C1LO))
		if ((r >= C3LO)); then
			s=$((RANDOM % 2 + 1))
			r2=$((RANDOM % (C3HI - C3LO + 1) + C3LO))
		else
			s=1
			r2=$((RANDOM % (C1HI - C1LO + 1) + C1LO))
		fi
		d=$((5 * (RANDOM % 49 - 24)))
		case $((RANDOM % 10)) in
		0 | 1 | 2)	# shift by up to two hours either way
			echo "UPDATE booking.booking SET during = tstzrange(lower(during) + make_interval(mins => $d), upper(during) + make_interval(mins => $d)), updated_at = now() WHERE id = $(pick "$r" "$CONSUMING") AND status IN ($CONSUMING);"
			;;
		3 | 4)	# stretch or shorten the end, never below 15 minutes
			echo "UPDATE booking.booking SET during = tstzrange(lower(during), greatest(upper(during) + make_interval(mins => $d), lower(during) + interval '15 minutes')), updated_at = now() WHERE id = $(pick "$r" "$CONSUMING") AND status IN ($CONSUMING);"
			;;
		5)	# move anywhere on the grid
			echo "UPDATE booking.booking SET during = $(grid_range $((RANDOM % (DAYS * 288))) $((RANDOM % 22 + 3))), updated_at = now() WHERE id = $(pick "$r" "$CONSUMING") AND status IN ($CONSUMING);"
			;;
		6)
			echo "INSERT INTO booking.booking (resource_id, holder, spots, during) VALUES ($r, 'direct', $s, $(grid_range $((RANDOM % (DAYS * 288))) $((RANDOM % 22 + 3))));"
			;;
		7)	# spots on a capacity-3 resource (1 to 3), or a move to a sibling resource
			if ((r >= C3LO)); then
				echo "UPDATE booking.booking SET spots = $((RANDOM % 3 + 1)), updated_at = now() WHERE id = $(pick "$r" "$CONSUMING") AND status IN ($CONSUMING);"
			else
				echo "UPDATE booking.booking SET resource_id = $r2, updated_at = now() WHERE id = $(pick "$r" "$CONSUMING") AND status IN ($CONSUMING);"
			fi
			;;
		8)
			echo "UPDATE booking.booking SET resource_id = $r2, during = tstzrange(lower(during) + make_interval(mins => $d), upper(during) + make_interval(mins => $d)), updated_at = now() WHERE id = $(pick "$r" "$CONSUMING") AND status IN ($CONSUMING);"
			;;
		9)	# a waitlisted request written, and one admitted (a cancelled booking is final)
			echo "INSERT INTO booking.booking (resource_id, holder, spots, during, status) VALUES ($r, 'direct-wait', $s, $(grid_range $((RANDOM % (DAYS * 288))) $((RANDOM % 22 + 3))), 'waitlisted');"
			echo "UPDATE booking.booking SET status = 'confirmed', updated_at = now() WHERE id = $(pick "$r" "'waitlisted'") AND status = 'waitlisted';"
			;;
		esac
	done
}

# Reads a direct session's stderr: every error must be 23P01 on booking_no_overlap with a detail
# that proves the refusal (taken + requested over capacity at the instant it names).  Prints
# "refusals N" and one "unexpected ..." line per other error.
check_direct_errors() {
	awk '
	function flush() {
		if (code == "") return
		if (code != "23P01" || constraint != "booking_no_overlap")
			printf "unexpected %s (constraint %s): %s\n", code, constraint, msg
		else if (match(detail, /, [0-9]+ of capacity [0-9]+ are taken and [0-9]+ more were requested for /)) {
			split(substr(detail, RSTART, RLENGTH), w, /[^0-9]+/)
			if (w[2] + w[4] <= w[3]) printf "unexpected refusal with room left: %s\n", detail
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

deadline=$((SECONDS + SECONDS_RUN))

for i in $(seq 1 "$DIRECT"); do
	(
		RANDOM=$((SEED + i))
		direct_statements "$deadline" |
			psql -X -d "$DB" -v ON_ERROR_STOP=0 -f - >"$WORK/direct.$i.out" 2>"$WORK/direct.$i.err"
	) &
	PIDS+=($!)
done

# Live checker: the sweep, the counters and verify() in one statement, hence one snapshot.
(
	n=0
	while ((SECONDS < deadline)); do
		psql -X -q -At -d "$DB" -c "
			SELECT line FROM ($SWEEP_SQL) s
			UNION ALL ($COUNTER_SQL)
			UNION ALL ($VERIFY_SQL)" >>"$WORK/checker.out" 2>>"$WORK/checker.err"
		n=$((n + 1))
		sleep 1
	done
	echo "$n" >"$WORK/checker.count"
) &
PIDS+=($!)

pgbench -n -M prepared -c "$CLIENTS" -j 4 -T "$SECONDS_RUN" --random-seed="$SEED" \
	-D c1lo="$C1LO" -D c3lo="$C3LO" -D c3hi="$C3HI" -D days="$DAYS" \
	-f "$HERE/tl_book.sql@6" -f "$HERE/tl_cancel.sql@2" \
	"$DB" >"$WORK/pgbench.out" 2>"$WORK/pgbench.err"
pgbench_rc=$?
wait "${PIDS[@]}"
PIDS=()

# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------
check_load "$pgbench_rc" tl_book.sql '^(INSERT 0 1|UPDATE 1)$'

# The final state, independently of the engine, then the engine's own verify().
swept=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$SWEEP_SQL" 2>&1) ||
	violation "the sweep failed: $swept"
if [ -n "$swept" ]; then
	violation "the sweep finds an instant over capacity (over|resource|capacity|instant|load, then the rows covering it: row|id|resource|spots|kind|status|during|widened):"
	head -40 <<<"$swept"
fi
counters=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$COUNTER_SQL" 2>&1) ||
	violation "the counter check failed: $counters"
if [ -n "$counters" ]; then
	violation "counters differ from what the rows say (counter|id|capacity|reserved|expected):"
	head -20 <<<"$counters"
fi
verified=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$VERIFY_SQL" 2>&1) ||
	violation "verify() failed: $verified"
if [ -n "$verified" ]; then
	violation "booking.verify() is not empty:"
	head -20 <<<"$verified"
fi

# The audit of the load: one row per book_slot() call; ok names its booking, a refusal names
# none and says 'conflict' (no notice or horizon is set here).
read -r attempts made refused bad_attempts <<<"$(q "
	SELECT count(*), count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok),
	       count(*) FILTER (WHERE (ok AND (booking_id IS NULL OR status <> 'confirmed'))
	                           OR (NOT ok AND (booking_id IS NOT NULL OR reason IS DISTINCT FROM 'conflict')))
	  FROM booking.attempt WHERE action = 'book' AND resource_id <> $ROOM" | tr '|' ' ')"
if [ -z "$book_tx" ] || [ "$attempts" -lt "$book_tx" ] || [ "$attempts" -gt $((book_tx + CLIENTS)) ]; then
	violation "booking.attempt holds $attempts book rows, pgbench ran ${book_tx:-an unknown number of} tl_book.sql transactions"
fi
[ "$bad_attempts" = 0 ] || violation "$bad_attempts audit rows contradict their outcome"
cancels=$(q "SELECT count(*) FROM booking.attempt WHERE action = 'cancel'")
# Nothing deletes here: every booking book_slot() reported is still in the table.
lost=$(q "SELECT count(*) FROM booking.attempt a
	WHERE a.action = 'book' AND a.ok AND NOT EXISTS (SELECT 1 FROM booking.booking b WHERE b.id = a.booking_id)")
[ "$lost" = 0 ] || violation "$lost bookings reported by book_slot() are gone"

[ "${made:-0}" -gt 0 ] || violation "book_slot() admitted nothing"
[ "${refused:-0}" -gt 0 ] || violation "book_slot() refused nothing: no conflict was met"
[ "$direct_refused" -gt 0 ] || violation "no direct write was refused: the 23P01 path was not exercised"
[ "$direct_ok" -gt 0 ] || violation "no direct write succeeded"
[ "$cancels" -gt 0 ] || violation "cancel() never ran"

# The peak load the sweep sees on each resource: the capacity-3 ones must have been full at
# some instant, or the run never tested capacity k > 1 at its boundary.
PEAK_SQL="${SWEEP_SQL%%), over AS*})
SELECT string_agg(resource_id || ':' || peak || '/' || capacity, ' ' ORDER BY resource_id)
  FROM (SELECT resource_id, capacity, max(load) AS peak FROM swept GROUP BY resource_id, capacity) p"
peaks=$(q "$PEAK_SQL")
grep -qE '(^| )[0-9]+:3/3( |$)' <<<"$peaks" || violation "no capacity-3 resource was ever full (peaks: $peaks)"

read -r rows active reserved <<<"$(q "
	SELECT (SELECT count(*) FROM booking.booking),
	       (SELECT count(*) FROM booking.booking WHERE status IN ($CONSUMING)),
	       (SELECT sum(spots_reserved) FROM booking.resource)" | tr '|' ' ')"

cat <<SUMMARY
stress-tl: summary, seed $SEED
  race:            $RACE clients on one slot ($race_waiting waiting together): ${race_rows} booking (holder ${race_winner:-none}), $race_conflict refused as conflict
  pgbench:         ${total_tx:-?} transactions in ${SECONDS_RUN}s, tps ${tps:-?}, $CLIENTS clients
  book_slot():     $attempts calls, $made bookings made, $refused refused as conflict
  cancel():        $cancels cancellations
  direct writes:   $direct_ok succeeded, $direct_refused refused with 23P01 booking_no_overlap (from $DIRECT psql sessions)
  live checks:     $checks snapshots of sweep + counters + verify() during the load
  peak load:       $peaks (resource:peak/capacity, from the sweep)
  end state:       $rows booking rows, $active consuming, $reserved spots reserved
  violations:      $violations
SUMMARY

if [ "$violations" -gt 0 ]; then
	echo "stress-tl: FAILED (kept database $DB for inspection)"
	exit 1
fi
echo "stress-tl: PASSED"
exit 0
