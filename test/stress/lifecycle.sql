-- The lifecycle part's helpers (lifecycle.sh loads this into its own database after CREATE
-- EXTENSION booking and the resources).  pgbench cannot carry a hold token from one transaction
-- to the next, so the token goes into stress.token in the transaction that made the hold, and a
-- later transaction (stress.act) takes it from there to confirm, release or extend the hold, or
-- to abandon it to its expiry.  Every call of the engine that may raise is made inside an
-- exception block; what it raised goes into stress.err with whether the state of the row proves
-- the error right, which the script checks at the end.  Nothing here is engine code: it is how
-- an application would hold, then act.

CREATE SCHEMA stress;

-- A hold's token, between the transaction that made the hold and the one that acts on it, no
-- sooner than act_at: the client's time to make up its mind (see lc_hold.sql), so that some act
-- well before the hold's time is up, some at the last moment and some after.  A group
-- (book_many) has one token, kept under its first booking.
CREATE TABLE stress.token (
	booking_id bigint PRIMARY KEY,
	token uuid NOT NULL,
	grp boolean NOT NULL,
	made_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	act_at timestamptz NOT NULL
);
CREATE INDEX ON stress.token (act_at);

-- Every hold handed out, with the token and the expiry its maker was told (first_expires_at; then
-- expires_at, moved by each extend()): the final checks compare them with the rows.
CREATE TABLE stress.made (
	booking_id bigint PRIMARY KEY,
	token uuid NOT NULL,
	first_expires_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	via text NOT NULL
);

-- Each extend() that succeeded: the new expiry of each row of the hold, and when (the clock
-- right after the call).
CREATE TABLE stress.ext (
	booking_id bigint NOT NULL,
	expires_at timestamptz NOT NULL,
	at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Errors the engine raised to the load, caught; justified says whether the row's state proves
-- the error right (see stress.act).
CREATE TABLE stress.err (
	id bigserial PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	op text NOT NULL,
	booking_id bigint,
	sqlstate text NOT NULL,
	message text,
	detail text,
	justified boolean NOT NULL,
	row_status text,
	row_expires_at timestamptz,
	xact_start timestamptz
);

-- What stress.act did, one row per call that found a token.
CREATE TABLE stress.acted (
	op text NOT NULL,
	ok boolean NOT NULL
);

-- Each expire_holds() call of the sweeper, and how many holds it expired; xact_at is its
-- transaction's now(), the time expire_holds() judges holds by.
CREATE TABLE stress.sweep (
	id bigserial PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	xact_at timestamptz NOT NULL DEFAULT now(),
	final boolean NOT NULL DEFAULT false,
	n integer NOT NULL
);

-- The slot k (0, 1 or 2) of a timeline resource: three adjacent hours, half-open, so slots never
-- meet; NULL on a pool resource.
CREATE FUNCTION stress.during_for(r bigint, k integer) RETURNS tstzrange
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN res.timeline
	            THEN tstzrange(timestamptz '2030-01-07 10:00+00' + make_interval(hours => k),
	                           timestamptz '2030-01-07 11:00+00' + make_interval(hours => k))
	       END
	  FROM booking.resource res WHERE res.id = r
$$;

-- Whether a request joins the line when it finds no room: the application keeps each line (of
-- a pool, or of a timeline slot) to fewer than maxline rows, else the line would grow without
-- end under this load and every new request would queue behind it (a new booking does not
-- overtake a waiting one), leaving no room for holds.  The engine decides the rest.
CREATE FUNCTION stress.line_short(r bigint, d tstzrange, maxline integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT count(*) < maxline FROM booking.booking b
	 WHERE b.resource_id = r AND b.status = 'waitlisted' AND b.during IS NOT DISTINCT FROM d
$$;

CREATE FUNCTION stress.caught(op text, booking bigint, st text, msg text, dt text) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO stress.err (op, booking_id, sqlstate, message, detail, justified, xact_start)
	VALUES (op, booking, st, msg, dt, false, now())
$$;

-- book_slot() with a hold of life_ms milliseconds (waiting in line where wait and the resource
-- is full), to be acted on after act_ms; with life_ms NULL, a booking with no hold that waits in
-- line where the resource is full and the line is short.  Nothing here may raise when the engine
-- is right.
CREATE FUNCTION stress.hold(r bigint, s integer, k integer, life_ms integer, wait boolean,
                            maxline integer, act_ms integer, who text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	d tstzrange := stress.during_for(r, k);
	res booking.result;
	st text;
	msg text;
	dt text;
BEGIN
	res := booking.book_slot(r, s, d, who, make_interval(secs => life_ms / 1000.0),
	                         wait AND stress.line_short(r, d, maxline));
	IF res.ok AND life_ms IS NOT NULL THEN
		INSERT INTO stress.token (booking_id, token, grp, act_at)
		VALUES (res.booking_id, res.hold_token, false, clock_timestamp() + make_interval(secs => act_ms / 1000.0));
		INSERT INTO stress.made (booking_id, token, first_expires_at, expires_at, via)
		VALUES (res.booking_id, res.hold_token, res.expires_at, res.expires_at, 'book_slot');
		RETURN 'held';
	END IF;
	RETURN coalesce(res.status::text, res.reason);
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, dt = PG_EXCEPTION_DETAIL;
	PERFORM stress.caught(CASE WHEN life_ms IS NULL THEN 'wait' ELSE 'hold' END, NULL, st, msg, dt);
	RETURN 'error';
END
$$;

-- book_many() of n pool resources (first, the next ones cyclically among 1..npool), 1 spot each,
-- held for life_ms milliseconds: one token for the group, to be acted on after act_ms.
CREATE FUNCTION stress.many(first integer, n integer, npool integer, life_ms integer, act_ms integer,
                            who text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	ids bigint[];
	res booking.result;
	head bigint;
	tok uuid;
	st text;
	msg text;
	dt text;
BEGIN
	SELECT array_agg(((first - 1 + i) % npool) + 1) INTO ids FROM generate_series(0, n - 1) i;
	FOR res IN SELECT * FROM booking.book_many(ids, 1, NULL, who, make_interval(secs => life_ms / 1000.0))
	LOOP
		IF res.ok THEN
			INSERT INTO stress.made (booking_id, token, first_expires_at, expires_at, via)
			VALUES (res.booking_id, res.hold_token, res.expires_at, res.expires_at, 'book_many');
			IF head IS NULL THEN
				head := res.booking_id;
				tok := res.hold_token;
			END IF;
		END IF;
	END LOOP;
	IF head IS NOT NULL THEN
		INSERT INTO stress.token (booking_id, token, grp, act_at)
		VALUES (head, tok, true, clock_timestamp() + make_interval(secs => act_ms / 1000.0));
		RETURN 'held';
	END IF;
	RETURN 'refused';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, dt = PG_EXCEPTION_DETAIL;
	PERFORM stress.caught('many', NULL, st, msg, dt);
	RETURN 'error';
END
$$;

-- Takes the token longest due (act_at passed) and, by k (1..100), confirms (35%), releases (20%)
-- or extends by one second (15%) its hold after think_ms more milliseconds of the client's
-- thinking inside the transaction, or abandons it to its expiry (30%).  An extended hold is
-- acted on again up to 1.5 s later.  The hold may be over by then: expired (by time, lazily by
-- an admission, or by the sweeper) or cancelled by lc_cancel.sql.  The engine must then raise
-- 55000, and the row must show why:
--   'hold N has expired': the row's expires_at is not after this transaction's start (the
--     engine's clock for holds);
--   'booking N cannot be confirmed/released/extended', detail 'Its status is S.': S is cancelled
--     or expired, and the row still says so (both are final).
-- On a timeline resource a confirm or an extension may also meet 23P01: the hold expired by the
-- clock of a transaction that started later and booked its range, which this one, started
-- before, still saw as held; the engine judges the hold again on the timeline and refuses it.
-- The row must bear that out: its expiry passed before now (the wall clock).
-- Any other error, or one the row does not bear out, is recorded as not justified.
CREATE FUNCTION stress.act(k integer, think_ms integer)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	t stress.token%ROWTYPE;
	what text;
	verb text;
	ok boolean := true;
	st text;
	msg text;
	dt text;
	cur record;
BEGIN
	SELECT * INTO t FROM stress.token WHERE act_at <= clock_timestamp()
	 ORDER BY act_at LIMIT 1 FOR UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN 'none';
	END IF;
	what := CASE WHEN k <= 35 THEN 'confirm' WHEN k <= 55 THEN 'release'
	             WHEN k <= 70 THEN 'extend' ELSE 'abandon' END;
	IF what = 'abandon' THEN
		DELETE FROM stress.token WHERE booking_id = t.booking_id;
		INSERT INTO stress.acted VALUES (what, true);
		RETURN what;
	END IF;
	IF think_ms > 0 THEN
		PERFORM pg_sleep(think_ms / 1000.0);
	END IF;
	BEGIN
		IF what = 'confirm' THEN
			PERFORM booking.confirm(t.booking_id, t.token);
		ELSIF what = 'release' THEN
			PERFORM booking.release(t.booking_id, t.token);
		ELSE
			WITH e AS (SELECT x.id, x.expires_at FROM booking.extend(t.booking_id, t.token, interval '1 second') x),
			     u AS (UPDATE stress.made m SET expires_at = e.expires_at FROM e WHERE m.booking_id = e.id)
			INSERT INTO stress.ext (booking_id, expires_at) SELECT e.id, e.expires_at FROM e;
		END IF;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, dt = PG_EXCEPTION_DETAIL;
		ok := false;
	END;
	INSERT INTO stress.acted VALUES (what, ok);
	IF ok THEN
		IF what = 'extend' THEN
			UPDATE stress.token SET act_at = clock_timestamp() + random() * interval '1.5 seconds'
			 WHERE booking_id = t.booking_id;
		ELSE
			DELETE FROM stress.token WHERE booking_id = t.booking_id;
		END IF;
		RETURN what;
	END IF;

	verb := CASE what WHEN 'confirm' THEN 'confirmed' WHEN 'release' THEN 'released' ELSE 'extended' END;
	SELECT b.status::text AS status, b.expires_at INTO cur FROM booking.booking b WHERE b.id = t.booking_id;
	INSERT INTO stress.err (op, booking_id, sqlstate, message, detail, justified, row_status,
	                        row_expires_at, xact_start)
	VALUES (what, t.booking_id, st, msg, dt,
	        (st = '55000' AND (
	            (msg = format('hold %s has expired', t.booking_id) AND cur.expires_at <= now())
	            OR (msg = format('booking %s cannot be %s', t.booking_id, verb)
	                AND dt IN ('Its status is cancelled.', 'Its status is expired.')
	                AND dt = format('Its status is %s.', cur.status))))
	        OR (st = '23P01' AND what IN ('confirm', 'extend') AND cur.status = 'held'
	            AND cur.expires_at <= clock_timestamp()),
	        cur.status, cur.expires_at, now());
	-- the hold is over either way
	DELETE FROM stress.token WHERE booking_id = t.booking_id;
	RETURN what || ' refused';
END
$$;

-- The sweeper's call: expire_holds(), its count kept.
CREATE FUNCTION stress.sweep(final boolean DEFAULT false) RETURNS integer
LANGUAGE sql AS $$
	INSERT INTO stress.sweep (final, n) SELECT final, booking.expire_holds() RETURNING n
$$;
