#!/usr/bin/env bash
# Stress test of a booking's life: holds of random short lifetimes, confirms, releases, extends,
# cancels and waitlists on a few resources at once, ending with every invariant checked and
# each waitlist's promotions in arrival order.
#
# Creates its own database (booking_stress_lc, dropped first) with 4 pool resources (capacity
# 3, 4, 6, 8) and 2 timeline resources (capacity 1 and 2, three adjacent one-hour slots each),
# all with waitlist and auto_promote on, no max_hold and no max_per_holder, and loads
# lifecycle.sql's helpers.  For LC_SECONDS it runs at the same time:
#   - pgbench, LC_CLIENTS clients at LC_RATE transactions a second in all, mixing: holds of 1 to
#     3 s through book_slot(), one in four waiting in line when full (lc_hold.sql); bookings
#     with no hold that wait when full (lc_wait.sql); book_many() holds of 2 or 3 pools
#     (lc_many.sql); a later transaction that takes a hold's token when its client has made up
#     its mind (one time in three at the last moment before the hold's time is up, else any time
#     in 3.5 s) and, after up to LC_THINK ms more inside the transaction, confirms, releases or
#     extends the hold, or abandons it to its expiry (lc_act.sql); cancel() of a random
#     confirmed, waiting or held row, one time in four of its whole group without a reason
#     (lc_cancel.sql).  Lines are kept shorter than LC_MAXLINE by
#     the clients (stress.line_short), or they would grow without end and nothing but the line
#     would ever be admitted.  The helpers catch what the engine raises: the only error allowed
#     is 55000 on a hold that is over (expired, or cancelled under the client), proven by the
#     row (see stress.act); anything else fails the run;
#   - a sweeper calling booking.expire_holds() (as the superuser) twice a second;
#   - a checker that, once a second, reads the counters, verify() and the timeline sweep in one
#     snapshot: all must be empty at every instant.
# Then, with the load stopped, checks in plain SQL and independently of the engine:
#   - every pool counter is the spots of its held, pending, confirmed and completed rows (a hold
#     past due counts until it is marked expired) and is within capacity, timeline counters are
#     0, verify() is empty, and no timeline slot is over capacity at any instant (a hold past due
#     takes nothing there); again after a last expire_holds(), which must leave no hold that was
#     past due by its transaction's clock;
#   - timelines over the whole run: each row's consuming stretches replayed from the audit, in
#     clock time (a hold stops consuming at its expiry, as extended; a confirm makes it consume
#     again), never put a slot over capacity at any moment (HISTORY_SQL below);
#   - every held row carries the digest of the token book_slot()/book_many() handed out and the
#     expiry its maker was told (moved by each extend()); every hold handed out is still there;
#     no hold was marked expired before its time;
#   - the audit: every booking's rows begin with the call that made it and follow the state
#     machine of src/states.c, each change under its name, to the row's current status; every
#     book_slot()/book_many() audit row agrees with its outcome; there is one book row per call;
#   - arrival order: a waiting row's place in line is its id; for every promotion (audit action
#     'promote', ordered by attempt id, which the resource's lock orders), no row with a lower
#     id was waiting on the same resource at that moment (it had joined the line, its 'book'
#     audit row, and not left it, its first later status change).  On a pool this holds without
#     exception: the line stops at the first row that does not fit, and at a first row another
#     transaction has locked.  On a timeline, where every row asks 1 spot for one of the slots,
#     rows of the same slot are compared, and a lower row may be passed over only while another
#     transaction has it locked, which here is a cancel(): it must have left the line cancelled.
#     (No max_per_holder is set, so no row is passed over for its holder.)
# Prints a summary; exits 1 with VIOLATION lines on any failure.
#
# LC_INJECT=1 checks the checker: after the load it promotes by hand, with promote(), the last
# waiting row of a pool ahead of the rows waiting before it (auto_promote switched off for that
# moment), which the arrival-order check must report.  Done while writing this test
# (LC_TL_HOLDS=0 LC_INJECT=1, seed 955623281); it reported
#   NOTICE:  promoted booking 8378 of resource 1 ahead of its line
#   VIOLATION: promotions out of arrival order (order|kind|resource|promote attempt|promoted|passed over|joined|left|left by):
#   order|pool|1|7803|8378|8325|7552|still waiting
#   order|pool|1|7803|8378|8337|7562|still waiting
# and the run failed.
#
# Connects where PGHOST/PGPORT/PGUSER point (a superuser; the extension must be installed).
# Knobs: LC_DB, LC_CLIENTS, LC_RATE, LC_SECONDS, LC_MAXLINE, LC_THINK (see above), LC_TL_HOLDS
# (0: holds on the pools only, none on the timelines), LC_SEED (replays pgbench's random
# choices; defaults to STRESS_SEED when set), LC_INJECT.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DB=${LC_DB:-booking_stress_lc}
CLIENTS=${LC_CLIENTS:-12}
RATE=${LC_RATE:-600}
SECONDS_RUN=${LC_SECONDS:-20}
SEED=${LC_SEED:-${STRESS_SEED:-$(((RANDOM << 15) | RANDOM))}}
THINK=${LC_THINK:-50}
INJECT=${LC_INJECT:-0}
DIRECT=0 # no direct writers here (lib.sh's check_load reads their files when there are some)

# Resource ids, fixed by the order of the INSERT below: 1..NPOOL pools, then the timelines.
NPOOL=4
NRES=6
MAXLINE=${LC_MAXLINE:-3}
# Holds on every resource, or (LC_TL_HOLDS=0) on the pools only.
if [ "${LC_TL_HOLDS:-1}" = 0 ]; then HOLDRES=$NPOOL; else HOLDRES=$NRES; fi

# shellcheck source=lib.sh
source "$HERE/lib.sh"
stress_workdir booking-stress-lc

# The sweep, the counters and verify(): lib.sh's SWEEP_SQL, COUNTER_SQL and VERIFY_SQL.

STATE_SQL="SELECT line FROM ($SWEEP_SQL) s UNION ALL ($COUNTER_SQL) UNION ALL ($VERIFY_SQL)"

# check_state WHEN: counters, verify() and the sweep, in one snapshot.
check_state() {
	local out
	out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$STATE_SQL" 2>&1) ||
		{ violation "the state check failed ($1): $out"; return; }
	if [ -n "$out" ]; then
		violation "state broken $1 (counter|id|capacity|reserved|expected, verify|..., over|resource|capacity|instant|load, row|id|resource|spots|kind|status|during|widened):"
		head -40 <<<"$out"
	fi
}

# checked DESCRIPTION SQL: a violation, with the first lines, when SQL returns any row.
checked() {
	local out
	out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$2" 2>&1) ||
		{ violation "the check of $1 failed: $out"; return; }
	if [ -n "$out" ]; then
		violation "$1:"
		head -20 <<<"$out"
	fi
}

echo "stress-lc: db=$DB clients=$CLIENTS rate=$RATE seconds=$SECONDS_RUN holds on resources 1..$HOLDRES seed=$SEED"

# ---------------------------------------------------------------------------------------------
# Setup
# ---------------------------------------------------------------------------------------------
dropdb --if-exists "$DB" || exit 1
createdb "$DB" || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<SQL || { echo "stress-lc: setup failed"; exit 1; }
CREATE EXTENSION booking;
INSERT INTO booking.resource (name, capacity, timeline, waitlist, auto_promote) VALUES
	('pool a', 3, false, true, true),
	('pool b', 4, false, true, true),
	('pool c', 6, false, true, true),
	('pool d', 8, false, true, true),
	('room', 1, true, true, true),
	('court', 2, true, true, true);
\i $HERE/lifecycle.sql
SQL
if [ "$(q "SELECT string_agg(id || ':' || capacity || ':' || timeline, ' ' ORDER BY id) FROM booking.resource")" != \
	"1:3:false 2:4:false 3:6:false 4:8:false 5:1:true 6:2:true" ]; then
	echo "stress-lc: resources are not numbered as the scripts expect"
	exit 1
fi

# ---------------------------------------------------------------------------------------------
# The load
# ---------------------------------------------------------------------------------------------
started=$SECONDS
deadline=$((SECONDS + SECONDS_RUN))

# The sweeper, as a job would run it.
(
	while ((SECONDS < deadline)); do
		psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "SELECT stress.sweep()" >/dev/null 2>>"$WORK/sweeper.err"
		sleep 0.5
	done
) &
PIDS+=($!)

# Live checker: counters, verify() and the sweep in one statement, hence one snapshot.
(
	n=0
	while ((SECONDS < deadline)); do
		psql -X -q -At -d "$DB" -c "$STATE_SQL" >>"$WORK/checker.out" 2>>"$WORK/checker.err"
		n=$((n + 1))
		sleep 1
	done
	echo "$n" >"$WORK/checker.count"
) &
PIDS+=($!)

pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$SECONDS_RUN" -R "$RATE" --random-seed="$SEED" \
	-D nres="$NRES" -D npool="$NPOOL" -D maxline="$MAXLINE" -D maxthink="$THINK" -D holdres="$HOLDRES" \
	-f "$HERE/lc_hold.sql@4" -f "$HERE/lc_wait.sql@1" -f "$HERE/lc_many.sql@3" \
	-f "$HERE/lc_act.sql@5" -f "$HERE/lc_cancel.sql@2" \
	"$DB" >"$WORK/pgbench.out" 2>"$WORK/pgbench.err"
pgbench_rc=$?
wait "${PIDS[@]}"
PIDS=()
load_seconds=$((SECONDS - started))

# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------
check_load "$pgbench_rc" lc_hold.sql '^$'
hold_tx=$book_tx
wait_tx=$(awk '/^SQL script [0-9]+:/ { cur = ($NF ~ /\/lc_wait\.sql$/) } cur && /^ - [0-9]+ transactions/ { print $2; exit }' "$WORK/pgbench.out")
if [ -s "$WORK/sweeper.err" ]; then
	violation "the sweeper's expire_holds() failed:"
	head -5 "$WORK/sweeper.err"
fi

# What the engine raised to the load: only 55000 on a hold that is over, proven by its row.
checked "errors the engine should not have raised (op|booking|sqlstate|message|detail|row status|row expires_at|xact start)" "
	SELECT concat_ws('|', op, booking_id, sqlstate, message, detail, row_status, row_expires_at, xact_start)
	  FROM stress.err WHERE NOT justified ORDER BY id LIMIT 20"

# The state the load left, before anything tidies it.
check_state "at the end of the load"
read -r due_pool due_tl <<<"$(q "
	SELECT count(*) FILTER (WHERE NOT r.timeline), count(*) FILTER (WHERE r.timeline)
	  FROM booking.booking b JOIN booking.resource r ON r.id = b.resource_id
	 WHERE b.status = 'held' AND b.expires_at <= now()" | tr '|' ' ')"

# Holds: every one handed out is there; a held or expired row has the expiry its maker was told
# (moved by each extend()) and a held one the digest of its token.
checked "holds handed out that are gone (booking)" "
	SELECT m.booking_id FROM stress.made m
	 WHERE NOT EXISTS (SELECT 1 FROM booking.booking b WHERE b.id = m.booking_id)"
checked "held rows whose token digest or expiry is not what book_slot()/book_many()/extend() said (id|status|expires_at|told|digest ok)" "
	SELECT concat_ws('|', b.id, b.status, b.expires_at, m.expires_at,
	                 b.hold_token_digest IS NOT DISTINCT FROM sha256(uuid_send(m.token)))
	  FROM booking.booking b LEFT JOIN stress.made m ON m.booking_id = b.id
	 WHERE (b.status = 'held' AND (m.booking_id IS NULL OR b.hold_token_digest IS NULL
	                               OR b.hold_token_digest <> sha256(uuid_send(m.token))
	                               OR b.expires_at IS DISTINCT FROM m.expires_at))
	    OR (b.status = 'expired' AND b.expires_at IS DISTINCT FROM m.expires_at)
	 ORDER BY b.id"

# The audit's ids: a call numbers its rows in a block of ids drawn from the sequence at once
# (src/audit.c), so no two rows share an id however the calls interleave, and a book_many()
# group's rows (each call's) are consecutive.
checked "attempt ids written twice (id|rows)" "
	SELECT concat_ws('|', id, count(*)) FROM booking.attempt GROUP BY id HAVING count(*) > 1 ORDER BY id"
checked "book_many() calls whose audit rows are not numbered consecutively (group|first id|last id|rows)" "
	SELECT concat_ws('|', b.group_id, min(a.id), max(a.id), count(*))
	  FROM booking.attempt a JOIN booking.booking b ON b.id = a.booking_id
	 WHERE a.action = 'book_many' AND a.ok
	 GROUP BY b.group_id HAVING max(a.id) - min(a.id) <> count(*) - 1
	 ORDER BY b.group_id"

# The last sweep, as the job would run it once the load is gone: then no hold is past due.
final_swept=$(q "SELECT stress.sweep(true)")
checked "held rows past due when the last expire_holds() ran (id|resource|expires_at|its time)" "
	SELECT concat_ws('|', b.id, b.resource_id, b.expires_at, s.xact_at)
	  FROM booking.booking b, stress.sweep s
	 WHERE s.final AND b.status = 'held' AND b.expires_at <= s.xact_at"
check_state "after the last expire_holds()"

if [ "$INJECT" = 1 ]; then
	echo "stress-lc: LC_INJECT=1: promoting a pool's last waiting row by hand, ahead of its line"
	psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<'SQL' || violation "the injection failed"
DO $$
DECLARE
	r bigint;
	late bigint;
	need integer;
	victim bigint;
BEGIN
	SELECT b.resource_id INTO r
	  FROM booking.booking b JOIN booking.resource res ON res.id = b.resource_id
	 WHERE b.status = 'waitlisted' AND NOT res.timeline
	 GROUP BY 1 HAVING count(*) >= 2 ORDER BY 1 LIMIT 1;
	IF r IS NULL THEN
		RAISE EXCEPTION 'no pool has two waiting rows to inject into';
	END IF;
	SELECT id, spots INTO late, need FROM booking.booking
	 WHERE resource_id = r AND status = 'waitlisted' ORDER BY id DESC LIMIT 1;
	UPDATE booking.resource SET auto_promote = false WHERE id = r;
	WHILE (SELECT capacity - spots_reserved FROM booking.resource WHERE id = r) < need LOOP
		SELECT id INTO victim FROM booking.booking
		 WHERE resource_id = r AND status IN ('held', 'pending', 'confirmed') ORDER BY id LIMIT 1;
		PERFORM booking.cancel(victim, 'inject');
	END LOOP;
	PERFORM booking.promote(late);
	UPDATE booking.resource SET auto_promote = true WHERE id = r;
	RAISE NOTICE 'promoted booking % of resource % ahead of its line', late, r;
END
$$;
SQL
fi

# The audit, copied once with an index (booking.attempt has none as shipped, and adding one
# would change how the engine writes it).  Then the arrival order, the state machine, and the
# bookings the calls reported.
AUDIT_SQL="
CREATE TEMP TABLE a AS
SELECT id, at, action, resource_id, booking_id, ok, reason, status::text AS status, during
  FROM booking.attempt;
CREATE INDEX ON a (booking_id, id);
ANALYZE a;
-- every waiting row: when it joined the line (its book_slot() audit row) and when it left it
-- (its first later change of status), by attempt id
CREATE TEMP TABLE w AS
SELECT j.booking_id AS id, j.resource_id, j.during, j.id AS joined, l.id AS left_at, l.action AS left_by
  FROM a j
  LEFT JOIN LATERAL (SELECT x.id, x.action FROM a x
                      WHERE x.booking_id = j.booking_id AND x.id > j.id AND x.action <> 'extend'
                      ORDER BY x.id LIMIT 1) l ON true
 WHERE j.action = 'book' AND j.status = 'waitlisted';
CREATE INDEX ON w (resource_id, id);
ANALYZE w;
"
ORDER_SQL="
SELECT concat_ws('|', 'order', CASE WHEN r.timeline THEN 'timeline' ELSE 'pool' END, x.resource_id,
                 p.id, x.id, y.id, y.joined, coalesce(y.left_at::text, 'still waiting'), y.left_by)
  FROM a p
  JOIN w x ON x.id = p.booking_id
  JOIN booking.resource r ON r.id = x.resource_id
  JOIN w y ON y.resource_id = x.resource_id AND y.id < x.id
          AND y.joined < p.id AND (y.left_at IS NULL OR y.left_at > p.id)
          AND (NOT r.timeline OR y.during = x.during)
 WHERE p.action = 'promote'
   AND (NOT r.timeline OR y.left_by IS DISTINCT FROM 'cancel')
 ORDER BY p.id, y.id"
# Timelines over time: each row's consuming stretches replayed from the audit, in clock time
# (an audit row's at), independently of the engine.  A row consumes from the write that made it
# held or confirmed (book_slot(), a promotion) to the write that ended it (cancel, release,
# expire) or, while it is held, to its expiry (first_expires_at as book_slot() said, then each
# extend() as the client saw it, stress.ext): a timeline hold past due takes nothing.  A confirm
# makes it consume again from then on.  Summed per slot (every row asks one of three disjoint
# slots), the load must never exceed capacity.  Clock times of audit rows come before their
# commits, which only makes this stricter where it cannot be wrong: an admission waits on the
# resource's lock for the write that freed its room, so it is audited after it.
HISTORY_SQL="
WITH tl AS (
	SELECT b.id, b.resource_id, b.during, b.spots, r.capacity
	  FROM booking.booking b JOIN booking.resource r ON r.id = b.resource_id
	 WHERE r.timeline AND b.kind = 'booking'
), ended AS (
	SELECT a.booking_id, min(a.at) AS at FROM a
	 WHERE a.action IN ('cancel', 'release', 'expire') GROUP BY a.booking_id
), piece AS (
	SELECT a.booking_id, a.action, a.at AS s,
	       CASE WHEN a.status = 'held' THEN m.first_expires_at ELSE 'infinity' END AS e
	  FROM a LEFT JOIN stress.made m ON m.booking_id = a.booking_id
	 WHERE (a.action IN ('book', 'book_many') AND a.ok) OR a.action IN ('promote', 'confirm')
	UNION ALL
	SELECT x.booking_id, 'extend', x.at, x.expires_at FROM stress.ext x
), stretch AS (
	SELECT tl.id, tl.resource_id, tl.during, tl.spots, tl.capacity,
	       range_agg(tstzrange(p.s, least(p.e, coalesce(en.at, 'infinity')))) AS m,
	       string_agg(p.action || '@' || to_char(p.s, 'HH24:MI:SS.US'), ' ' ORDER BY p.s) AS how
	  FROM tl JOIN piece p ON p.booking_id = tl.id
	  LEFT JOIN ended en ON en.booking_id = tl.id
	 WHERE p.s < least(p.e, coalesce(en.at, 'infinity'))
	 GROUP BY 1, 2, 3, 4, 5
), ev AS (
	SELECT st.id, st.resource_id, st.during, st.capacity, lower(x) AS at, st.spots AS delta
	  FROM stretch st, unnest(st.m) x
	UNION ALL
	SELECT st.id, st.resource_id, st.during, st.capacity, upper(x), -st.spots
	  FROM stretch st, unnest(st.m) x WHERE NOT upper_inf(x)
), swept AS (
	SELECT ev.*, sum(delta) OVER (PARTITION BY resource_id, during ORDER BY at, delta, id
	                              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS load
	  FROM ev
), over AS (
	SELECT DISTINCT ON (resource_id, during) resource_id, during, capacity, at, load
	  FROM swept WHERE load > capacity ORDER BY resource_id, during, at
)
SELECT line FROM (
	SELECT o.resource_id, o.during, 0 AS k, concat_ws('|', 'over', o.resource_id, o.during, o.capacity, o.at, o.load) AS line
	  FROM over o
	UNION ALL
	SELECT o.resource_id, o.during, 1, concat_ws('|', 'stretch', st.id, st.m, st.how, en.at)
	  FROM over o
	  JOIN stretch st ON st.resource_id = o.resource_id AND st.during = o.during AND st.m @> o.at
	  LEFT JOIN ended en ON en.booking_id = st.id
) x ORDER BY resource_id, during, k, line"
# A promotion of a row that was not waiting then.
PROMOTED_SQL="
SELECT concat_ws('|', 'promoted', p.id, p.booking_id, x.joined, x.left_at)
  FROM a p LEFT JOIN w x ON x.id = p.booking_id
 WHERE p.action = 'promote' AND (x.id IS NULL OR x.joined > p.id OR x.left_at IS DISTINCT FROM p.id)"
# Each booking's audit rows, in order: the call that made it first, then changes the state
# machine allows, each under its name, ending in the row's status; and no row without them.
ALLOWED="('held','pending'), ('held','confirmed'), ('held','cancelled'), ('held','expired'),
         ('pending','confirmed'), ('pending','cancelled'), ('confirmed','completed'), ('confirmed','cancelled'),
         ('waitlisted','held'), ('waitlisted','pending'), ('waitlisted','confirmed'), ('waitlisted','cancelled')"
STATES_SQL="
WITH ev AS (
	SELECT a.booking_id, a.id, a.action, a.status,
	       lag(a.status) OVER (PARTITION BY a.booking_id ORDER BY a.id) AS prev,
	       row_number() OVER (PARTITION BY a.booking_id ORDER BY a.id) AS n,
	       row_number() OVER (PARTITION BY a.booking_id ORDER BY a.id DESC) AS back
	  FROM a
	 WHERE a.booking_id IS NOT NULL AND a.action <> 'extend'
)
SELECT concat_ws('|', 'states', ev.booking_id, ev.id, ev.action, ev.prev, ev.status, b.status)
  FROM ev LEFT JOIN booking.booking b ON b.id = ev.booking_id
 WHERE b.id IS NULL
    OR (ev.n = 1 AND NOT ((ev.action = 'book' AND ev.status IN ('held', 'confirmed', 'waitlisted'))
                          OR (ev.action = 'book_many' AND ev.status = 'held')))
    OR (ev.n > 1 AND ((ev.prev, ev.status) NOT IN (VALUES $ALLOWED)
                      OR ev.action <> CASE WHEN ev.prev = 'waitlisted' AND ev.status <> 'cancelled' THEN 'promote'
                                           WHEN ev.status = 'confirmed' AND ev.prev = 'pending' THEN 'approve'
                                           WHEN ev.status = 'confirmed' THEN 'confirm'
                                           WHEN ev.status = 'pending' THEN 'update'
                                           WHEN ev.status = 'completed' THEN 'complete'
                                           WHEN ev.status = 'cancelled' AND ev.prev = 'held' THEN 'release'
                                           WHEN ev.status = 'cancelled' THEN 'cancel'
                                           WHEN ev.status = 'expired' THEN 'expire'
                                           ELSE '?' END))
    OR (ev.back = 1 AND ev.status IS DISTINCT FROM b.status::text)
UNION ALL
SELECT concat_ws('|', 'unaudited', b.id, b.status) FROM booking.booking b
 WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.booking_id = b.id AND a.action IN ('book', 'book_many'))
UNION ALL
SELECT concat_ws('|', 'early expiry', a.booking_id, a.at, b.expires_at)
  FROM a JOIN booking.booking b ON b.id = a.booking_id
 WHERE a.action = 'expire' AND NOT (b.expires_at <= a.at)
UNION ALL
SELECT concat_ws('|', 'book row', a.id, a.action, a.ok, a.reason, a.booking_id, a.status)
  FROM a
 WHERE a.action IN ('book', 'book_many')
   AND NOT ((a.ok AND a.booking_id IS NOT NULL AND a.status IN ('held', 'confirmed'))
            OR (NOT a.ok AND a.action = 'book' AND a.booking_id IS NOT NULL AND a.status = 'waitlisted')
            OR (NOT a.ok AND a.booking_id IS NULL AND a.status IS NULL AND a.reason IN ('full', 'conflict')))"

audit_out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" 2>&1 <<SQL
$AUDIT_SQL
\echo ==order
$ORDER_SQL;
\echo ==promoted
$PROMOTED_SQL;
\echo ==states
$STATES_SQL;
\echo ==history
$HISTORY_SQL;
SQL
) || violation "the audit checks failed: $(tail -5 <<<"$audit_out")"
section() { awk -v s="==$1" '/^==/ { on = ($0 == s); next } on' <<<"$audit_out"; }
out=$(section order)
if [ -n "$out" ]; then
	violation "promotions out of arrival order (order|kind|resource|promote attempt|promoted|passed over|joined|left|left by):"
	head -20 <<<"$out"
fi
out=$(section promoted)
if [ -n "$out" ]; then
	violation "promotions of rows that were not waiting then (promoted|attempt|booking|joined|left):"
	head -20 <<<"$out"
fi
out=$(section history)
if [ -n "$out" ]; then
	violation "a timeline slot was over capacity at some moment of the load, replayed from the audit (over|resource|slot|capacity|moment|load, then stretch|booking|consuming stretches|writes that made it consume|write that ended it):"
	head -20 <<<"$out"
fi
out=$(section states)
if [ -n "$out" ]; then
	violation "bookings whose audit does not follow the state machine, or is missing, or contradicts its call (states|booking|attempt|action|from|to|row status, ...):"
	head -20 <<<"$out"
fi

# The calls pgbench counted against the audit: one book_slot() audit row per lc_hold.sql and
# lc_wait.sql transaction (up to one per client more: pgbench -T leaves the last uncounted).
book_calls=$(q "SELECT count(*) FROM booking.attempt WHERE action = 'book'")
if [ -z "$hold_tx" ] || [ -z "$wait_tx" ] || [ "$book_calls" -lt $((hold_tx + wait_tx)) ] ||
	[ "$book_calls" -gt $((hold_tx + wait_tx + CLIENTS)) ]; then
	violation "booking.attempt holds $book_calls book rows; pgbench ran ${hold_tx:-?} lc_hold.sql and ${wait_tx:-?} lc_wait.sql transactions"
fi

# A line that could move and did not (information: the promotion that found its first row
# locked by a cancel stops there, and a cancelled waiting row frees nothing to start it again).
stuck=$(q "
	SELECT string_agg(concat_ws(':', r.id, h.id), ' ' ORDER BY r.id)
	  FROM booking.resource r
	  JOIN LATERAL (SELECT b.id, b.spots, b.during FROM booking.booking b
	                 WHERE b.resource_id = r.id AND b.status = 'waitlisted' ORDER BY b.id LIMIT 1) h ON true
	 WHERE r.auto_promote AND NOT r.timeline AND r.spots_reserved + h.spots <= r.capacity")

# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------
read -r holds_slot holds_many <<<"$(q "
	SELECT count(*) FILTER (WHERE via = 'book_slot'), count(*) FILTER (WHERE via = 'book_many')
	  FROM stress.made" | tr '|' ' ')"
read -r b_held b_confirmed b_waiting b_full b_conflict many_ok many_refused <<<"$(q "
	SELECT count(*) FILTER (WHERE a.action = 'book' AND a.ok AND a.status = 'held'),
	       count(*) FILTER (WHERE a.action = 'book' AND a.ok AND a.status = 'confirmed'),
	       count(*) FILTER (WHERE a.action = 'book' AND a.status = 'waitlisted'),
	       count(*) FILTER (WHERE a.action = 'book' AND NOT a.ok AND a.status IS NULL AND a.reason = 'full'),
	       count(*) FILTER (WHERE a.action = 'book' AND NOT a.ok AND a.status IS NULL AND a.reason = 'conflict'),
	       count(DISTINCT b.group_id) FILTER (WHERE a.action = 'book_many' AND a.ok),
	       count(*) FILTER (WHERE a.action = 'book_many' AND NOT a.ok)
	  FROM booking.attempt a LEFT JOIN booking.booking b ON b.id = a.booking_id" | tr '|' ' ')"
read -r n_confirm n_release n_lc_release n_cancel n_extend n_expire n_promote_pool n_promote_tl <<<"$(q "
	SELECT count(*) FILTER (WHERE a.action = 'confirm'),
	       (SELECT count(*) FROM stress.acted WHERE op = 'release' AND ok),
	       count(*) FILTER (WHERE a.action = 'release'),
	       count(*) FILTER (WHERE a.action = 'cancel'),
	       count(*) FILTER (WHERE a.action = 'extend'),
	       count(*) FILTER (WHERE a.action = 'expire'),
	       count(*) FILTER (WHERE a.action = 'promote' AND NOT r.timeline),
	       count(*) FILTER (WHERE a.action = 'promote' AND r.timeline)
	  FROM booking.attempt a
	  LEFT JOIN booking.booking b ON b.id = a.booking_id
	  LEFT JOIN booking.resource r ON r.id = a.resource_id" | tr '|' ' ')"
read -r swept sweeps <<<"$(q "SELECT coalesce(sum(n) FILTER (WHERE NOT final), 0), count(*) FILTER (WHERE NOT final) FROM stress.sweep" | tr '|' ' ')"
lazy=$((n_expire - swept - final_swept))
acted=$(q "SELECT coalesce(string_agg(op || ' ' || n_ok || ' ok/' || n || '', ', ' ORDER BY op), 'none')
	FROM (SELECT op, count(*) AS n, count(*) FILTER (WHERE ok) AS n_ok FROM stress.acted GROUP BY op) s")
errors=$(q "SELECT coalesce(string_agg(kind || ': ' || n, ', ' ORDER BY kind), 'none') FROM (
	SELECT kind, count(*) AS n FROM (
		SELECT sqlstate || ' ' || CASE WHEN message LIKE 'hold % has expired' THEN 'hold expired'
		                               WHEN message LIKE 'booking % cannot be %' THEN op || ' of ' || coalesce(row_status, '?')
		                               ELSE left(message, 60) END
		       || CASE WHEN justified THEN '' ELSE ' (NOT JUSTIFIED)' END AS kind
		  FROM stress.err) e
	 GROUP BY kind) s")
read -r rows waiting_end consuming <<<"$(q "
	SELECT count(*), count(*) FILTER (WHERE status = 'waitlisted'), count(*) FILTER (WHERE status IN ($CONSUMING))
	  FROM booking.booking" | tr '|' ' ')"

# A run that missed a part of the life has not tested it.
[ "${holds_slot:-0}" -gt 0 ] || violation "no hold was made by book_slot()"
[ "${holds_many:-0}" -gt 0 ] || violation "no hold was made by book_many()"
[ "${n_confirm:-0}" -gt 0 ] || violation "no hold was confirmed"
[ "${n_release:-0}" -gt 0 ] || violation "no hold was released"
[ "${n_extend:-0}" -gt 0 ] || violation "no hold was extended"
[ "${n_expire:-0}" -gt 0 ] || violation "no hold expired"
# (On a pool an admission that meets a due hold expires it first, so the sweeper may find none
# there; a timeline's due holds are left for it to mark.)
if [ "$HOLDRES" -gt "$NPOOL" ]; then
	[ "${swept:-0}" -gt 0 ] || violation "the sweeper expired nothing"
fi
[ "${b_waiting:-0}" -gt 0 ] || violation "nobody waited in line"
[ "${n_promote_pool:-0}" -gt 0 ] || violation "no waiting row of a pool was promoted"
[ "${n_promote_tl:-0}" -gt 0 ] || violation "no waiting row of a timeline was promoted"
[ "${n_cancel:-0}" -gt 0 ] || violation "cancel() never ran"

cat <<SUMMARY
stress-lc: summary after ${SECONDS_RUN}s of load (${load_seconds}s with start-up), seed $SEED
  pgbench:         ${total_tx:-?} transactions, tps ${tps:-?}, $CLIENTS clients
  book_slot():     $book_calls calls: $b_held held, $b_confirmed confirmed, $b_waiting waitlisted, $b_full refused full, $b_conflict refused conflict
  book_many():     $many_ok groups held ($holds_many rows), $many_refused refused
  holds made:      $((holds_slot + holds_many)) ($holds_slot by book_slot, $holds_many by book_many)
  acted on holds:  $acted
  confirmed:       $n_confirm holds
  released:        $n_release release() calls; $n_lc_release held rows by release() or cancel()
  extended:        $n_extend
  expired:         $n_expire in all: $lazy lazily by admissions, $swept by the sweeper ($sweeps runs), $final_swept by the last expire_holds()
  past due:        at the end of the load $due_pool holds on pools (still counted), $due_tl on timelines (taking nothing)
  cancelled:       $n_cancel confirmed/pending/waiting rows by cancel()
  promotions:      $n_promote_pool on pools, $n_promote_tl on timelines, all checked for arrival order
  caught errors:   $errors
  live checks:     $checks snapshots of counters + verify() + sweep during the load
  end state:       $rows booking rows, $consuming consuming, $waiting_end still waiting
  lines not moved: ${stuck:-none} (pool:first waiting row that would fit; information only)
  violations:      $violations
SUMMARY

if [ "$violations" -gt 0 ]; then
	echo "stress-lc: FAILED (kept database $DB for inspection)"
	exit 1
fi
echo "stress-lc: PASSED"
exit 0
