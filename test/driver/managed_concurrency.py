#!/usr/bin/python3
"""
test/driver/managed_concurrency.py: an application's tables under booking.manage(), written by a
real client library (psycopg2) through raw queries from many connections at once, as an ORM's
raw SQL would write them.

Two managed pairs in a database of its own (DRIVER_DB, dropped first):
  - a Prisma-shaped pool: "Event" (capacity, "spotsReserved") and "Registration" ("eventId",
    "spotsCount", a text status), events with small capacities so that the connections fight
    for the last spots;
  - snake_case time slots: therapists and sessions (scheduled_at plus 50 minutes, 10 minutes
    kept free after each), a few therapists and a small grid of start times so that sessions
    collide.
DRIVER_CLIENTS threads, one connection each, for DRIVER_SECONDS: registrations of 1-3 spots,
cancels (UPDATE of status), deletes, moves to another event, sessions booked, cancelled and
rescheduled; some threads at READ COMMITTED, some at REPEATABLE READ retrying on 40001.
Every error the driver sees must be one the engine documents, with the fields a driver reads:
  23514 with constraint booking_capacity and table "Registration";
  23P01 with constraint booking_no_overlap and table sessions;
  40001 at REPEATABLE READ (retried).
At the end, in plain SQL and without the engine: no event over capacity, every counter equal to
its rows, no two scheduled sessions of one therapist closer than 60 minutes, and verify() empty.
Both refusals must have been seen (the test made the connections collide).  Prints a summary;
exits 1 on any violation.
"""

import os
import random
import sys
import threading
import time

import psycopg2
import psycopg2.errors
import psycopg2.extensions

DB = os.environ.get("DRIVER_DB", "booking_driver")
CLIENTS = int(os.environ.get("DRIVER_CLIENTS", "24"))
SECONDS = float(os.environ.get("DRIVER_SECONDS", "20"))
EVENTS = int(os.environ.get("DRIVER_EVENTS", "12"))
THERAPISTS = int(os.environ.get("DRIVER_THERAPISTS", "4"))
SLOTS = int(os.environ.get("DRIVER_SLOTS", "24"))  # start times on a 20-minute grid


def connect(dbname):
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    return conn


def setup():
    admin = connect("postgres")
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS %s" % DB)
        cur.execute("CREATE DATABASE %s" % DB)
    admin.close()
    conn = connect(DB)
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION booking")
        cur.execute('''
            CREATE TABLE "Event" (id serial PRIMARY KEY, title text NOT NULL,
                                  capacity integer NOT NULL, "spotsReserved" integer NOT NULL DEFAULT 0);
            CREATE TABLE "Registration" (id serial PRIMARY KEY,
                                         "eventId" integer NOT NULL REFERENCES "Event" (id),
                                         "userId" integer NOT NULL,
                                         "spotsCount" integer NOT NULL DEFAULT 1,
                                         status text NOT NULL DEFAULT 'PENDING');
            CREATE INDEX ON "Registration" ("eventId");
            CREATE TABLE therapists (id bigint PRIMARY KEY, name text NOT NULL);
            CREATE TABLE sessions (id bigserial PRIMARY KEY,
                                   therapist_id bigint NOT NULL REFERENCES therapists,
                                   client text NOT NULL,
                                   scheduled_at timestamptz NOT NULL,
                                   status text NOT NULL DEFAULT 'scheduled');
            CREATE INDEX ON sessions (therapist_id, scheduled_at);''')
        cur.execute('INSERT INTO "Event" (title, capacity) SELECT %s || g, 2 + g %% 5 '
                    'FROM generate_series(1, %s) g', ("event ", EVENTS))
        cur.execute("INSERT INTO therapists SELECT g, 'therapist ' || g FROM generate_series(1, %s) g",
                    (THERAPISTS,))
        cur.execute('''SELECT count(*) FROM booking.manage('"Event"', '"Registration"',
                        counter_column => 'spotsReserved', spots_column => 'spotsCount',
                        consuming => '{PENDING,CONFIRMED}')''')
        cur.execute('''SELECT count(*) FROM booking.manage('therapists', 'sessions',
                        fixed_capacity => 1, start_column => 'scheduled_at',
                        duration => '50 minutes', buffer_after => '10 minutes',
                        consuming => '{scheduled}')''')
    conn.close()


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.bad = []

    def add(self, what, n=1):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + n

    def wrong(self, text):
        with self.lock:
            self.bad.append(text)


def expect_refusal(tally, err, sqlstate, constraint, table):
    """A refusal must carry the SQLSTATE, the constraint and the table a driver maps."""
    diag = err.diag
    if err.pgcode != sqlstate or diag.constraint_name != constraint or diag.table_name != table:
        tally.wrong("%s: got %s constraint %s table %s: %s" % (
            sqlstate, err.pgcode, diag.constraint_name, diag.table_name, str(err).strip()))
    else:
        tally.add(sqlstate)


def random_row(table, where):
    """A subquery for the id of one random row of table that meets where."""
    return "(SELECT id FROM %s WHERE %s ORDER BY random() LIMIT 1)" % (table, where)


def one_action(cur, rnd):
    """Runs one random write; returns its name."""
    roll = rnd.random()
    event = rnd.randint(1, EVENTS)
    therapist = rnd.randint(1, THERAPISTS)
    live = '"eventId" = %s AND status <> \'CANCELLED\''
    scheduled = "therapist_id = %s AND status = 'scheduled'"
    if roll < 0.45:
        cur.execute('INSERT INTO "Registration" ("eventId", "userId", "spotsCount", status) '
                    'VALUES (%s, %s, %s, %s) RETURNING id',
                    (event, rnd.randint(1, 1000), rnd.randint(1, 3),
                     rnd.choice(["PENDING", "CONFIRMED"])))
        return "register"
    if roll < 0.55:
        cur.execute('UPDATE "Registration" SET status = \'CANCELLED\' WHERE id = '
                    + random_row('"Registration"', live), (event,))
        return "cancel"
    if roll < 0.60:
        cur.execute('DELETE FROM "Registration" WHERE id = '
                    + random_row('"Registration"', '"eventId" = %s'), (event,))
        return "delete"
    if roll < 0.65:
        cur.execute('UPDATE "Registration" SET "eventId" = %s WHERE id = '
                    + random_row('"Registration"', live), (rnd.randint(1, EVENTS), event))
        return "move"
    if roll < 0.90:
        cur.execute("INSERT INTO sessions (therapist_id, client, scheduled_at) "
                    "VALUES (%s, %s, '2030-03-04 08:00+00'::timestamptz + %s * interval '20 minutes')",
                    (therapist, "client", rnd.randint(0, SLOTS - 1)))
        return "session"
    if roll < 0.95:
        cur.execute("UPDATE sessions SET status = 'cancelled' WHERE id = "
                    + random_row("sessions", scheduled), (therapist,))
        return "session_cancel"
    cur.execute("UPDATE sessions SET scheduled_at = scheduled_at + %s * interval '20 minutes' WHERE id = "
                + random_row("sessions", scheduled), (rnd.choice([-1, 1]), therapist))
    return "reschedule"


def worker(number, deadline, tally):
    rnd = random.Random(number)
    conn = psycopg2.connect(dbname=DB)
    repeatable = number % 3 == 0
    conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ
                     if repeatable else psycopg2.extensions.ISOLATION_LEVEL_READ_COMMITTED)
    while time.time() < deadline:
        for attempt in range(20):
            try:
                with conn.cursor() as cur:
                    what = one_action(cur, rnd)
                conn.commit()
                tally.add(what)
                break
            except psycopg2.errors.CheckViolation as err:
                conn.rollback()
                expect_refusal(tally, err, "23514", "booking_capacity", "Registration")
                break
            except psycopg2.errors.ExclusionViolation as err:
                conn.rollback()
                expect_refusal(tally, err, "23P01", "booking_no_overlap", "sessions")
                break
            except (psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected) as err:
                conn.rollback()
                if err.pgcode == "40P01":
                    tally.wrong("deadlock: %s" % str(err).strip())
                    break
                if not repeatable:
                    tally.wrong("40001 at READ COMMITTED: %s" % str(err).strip())
                    break
                tally.add("40001 retried")
            except psycopg2.Error as err:
                conn.rollback()
                tally.wrong("%s: %s" % (err.pgcode, str(err).strip()))
                break
    conn.close()


def check(tally):
    conn = connect(DB)
    failures = []
    with conn.cursor() as cur:
        cur.execute('''SELECT e.id, e.capacity, e."spotsReserved", coalesce(sum(r."spotsCount"), 0)
                         FROM "Event" e LEFT JOIN "Registration" r
                           ON r."eventId" = e.id AND r.status IN ('PENDING', 'CONFIRMED')
                        GROUP BY e.id ORDER BY e.id''')
        rows = cur.fetchall()
        for eid, capacity, counter, taken in rows:
            if taken > capacity:
                failures.append("event %d: %d spots taken of %d" % (eid, taken, capacity))
            if counter != taken:
                failures.append("event %d: counter %d, rows %d" % (eid, counter, taken))
        full = sum(1 for _, capacity, _, taken in rows if taken == capacity)
        cur.execute('''SELECT a.id, b.id FROM sessions a JOIN sessions b
                         ON a.therapist_id = b.therapist_id AND a.id < b.id
                        AND a.status = 'scheduled' AND b.status = 'scheduled'
                        AND a.scheduled_at < b.scheduled_at + interval '60 minutes'
                        AND b.scheduled_at < a.scheduled_at + interval '60 minutes' ''')
        for a, b in cur.fetchall():
            failures.append("sessions %d and %d overlap" % (a, b))
        cur.execute("SELECT count(*) FROM booking.verify()")
        problems = cur.fetchone()[0]
        if problems:
            failures.append("verify() has %d rows" % problems)
        cur.execute("SELECT count(*) FROM sessions WHERE status = 'scheduled'")
        scheduled = cur.fetchone()[0]
    conn.close()
    for what in ("23514", "23P01", "register", "session"):
        if tally.counts.get(what, 0) == 0:
            failures.append("no %s seen: the connections did not collide" % what)
    return failures, full, scheduled


def main():
    setup()
    tally = Tally()
    deadline = time.time() + SECONDS
    threads = [threading.Thread(target=worker, args=(n, deadline, tally)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failures, full, scheduled = check(tally)
    failures += tally.bad
    print("driver: psycopg2 %s, %d connections, %.0f s" % (psycopg2.__version__.split()[0], CLIENTS, SECONDS))
    for what in sorted(tally.counts):
        print("  %-16s %d" % (what, tally.counts[what]))
    print("  events full at the end: %d of %d; sessions scheduled: %d" % (full, EVENTS, scheduled))
    if failures:
        for f in failures[:50]:
            print("FAILED: " + f)
        print("managed_concurrency ... FAILED")
        return 1
    print("managed_concurrency ... ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
