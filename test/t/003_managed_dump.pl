
# Copyright: the booking authors; see the repository's licence.

# pg_dump round trip of an application's own tables under booking.manage().  booking.pair keeps
# its rows past the extension's own (pg_extension_config_dump, WHERE id > 1) and names tables by
# regclass and columns by name; the engine's triggers on the application's tables are ordinary
# triggers that pg_dump writes after the data.  So a restore must bring back each pair as it
# was, a renamed column's new name included, with its triggers, and an engine that goes on
# refusing what breaks the rule.  Two pairs: a Prisma-shaped pool ("Event"/"Registration",
# quoted camelCase names, a column renamed after manage()) and snake_case time slots
# (therapists/sessions, a start column plus a duration).  Restored three ways: custom format
# through pg_restore, plain SQL through psql, directory format with two jobs each way.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use BookingTest qw(source_node restore_ways restore_and_compare);

my $node = source_node('managed_dump');
$node->safe_psql(
	'src', q{
CREATE EXTENSION booking;
CREATE TABLE "Event" (id serial PRIMARY KEY, title text NOT NULL, capacity integer NOT NULL,
					  "spotsReserved" integer NOT NULL DEFAULT 0);
CREATE TABLE "Registration" (id serial PRIMARY KEY,
							 "eventId" integer NOT NULL REFERENCES "Event" (id),
							 "spotsCount" integer NOT NULL DEFAULT 1,
							 status text NOT NULL DEFAULT 'CONFIRMED');
INSERT INTO "Event" (title, capacity) SELECT format('event %s', g), 1 + g % 4 FROM generate_series(1, 30) g;
SELECT count(*) FROM booking.manage('"Event"', '"Registration"', counter_column => 'spotsReserved',
									spots_column => 'spotsCount', consuming => '{PENDING,CONFIRMED}');
ALTER TABLE "Registration" RENAME COLUMN "spotsCount" TO "seatCount";
-- fill every event as far as it goes; the rest is refused by the engine, row by row
DO $$
BEGIN
	FOR i IN 1..120 LOOP
		BEGIN
			INSERT INTO "Registration" ("eventId", "seatCount", status)
			VALUES (1 + i % 30, 1 + i % 2, CASE WHEN i % 5 = 0 THEN 'PENDING' ELSE 'CONFIRMED' END);
		EXCEPTION WHEN check_violation THEN
			NULL;
		END;
	END LOOP;
END
$$;
UPDATE "Registration" SET status = 'CANCELLED' WHERE id % 7 = 0;

CREATE TABLE therapists (id bigint PRIMARY KEY, name text);
CREATE TABLE sessions (id bigserial PRIMARY KEY, therapist_id bigint NOT NULL REFERENCES therapists,
					   scheduled_at timestamptz NOT NULL, status text NOT NULL DEFAULT 'scheduled');
INSERT INTO therapists SELECT g, format('therapist %s', g) FROM generate_series(1, 3) g;
SELECT count(*) FROM booking.manage('therapists', 'sessions', fixed_capacity => 1,
									start_column => 'scheduled_at', duration => '50 minutes',
									buffer_after => '10 minutes', consuming => '{scheduled}');
INSERT INTO sessions (therapist_id, scheduled_at)
SELECT 1 + g % 3, '2030-01-07 08:00+00'::timestamptz + (g / 3) * interval '1 hour'
  FROM generate_series(0, 29) g;
});

my %content_sql = (
	event => q{SELECT string_agg(t::text, E'\n' ORDER BY t.id) FROM "Event" t},
	registration => q{SELECT string_agg(t::text, E'\n' ORDER BY t.id) FROM "Registration" t},
	sessions => q{SELECT string_agg(t::text, E'\n' ORDER BY t.id) FROM sessions t},
	pair => q{SELECT string_agg(t::text, E'\n' ORDER BY t.id) FROM booking.pair t WHERE id > 1},
	triggers => q{
		SELECT string_agg(format('%s %s %s', tgrelid::regclass, tgname, pg_get_triggerdef(oid)), E'\n'
						  ORDER BY tgrelid::regclass::text, tgname)
		  FROM pg_trigger
		 WHERE NOT tgisinternal
		   AND tgrelid IN ('"Event"'::regclass, '"Registration"'::regclass,
						   'therapists'::regclass, 'sessions'::regclass)},);

my %source = map { $_ => $node->safe_psql('src', $content_sql{$_}) } keys %content_sql;

is($node->safe_psql('src', 'SELECT count(*) FROM booking.verify()'),
	'0', 'source: verify() is empty');
like($source{pair}, qr/seatCount/, 'source: the pair names the renamed column');
is( $node->safe_psql(
		'src', q{SELECT count(*) FILTER (WHERE "spotsReserved" = capacity) > 0 FROM "Event"}),
	't', 'source: some events are full');

my $tmp = PostgreSQL::Test::Utils::tempdir;
# The application's tables have no foreign key from the extension's: two jobs each way.
my %restore = restore_ways($node, $tmp, 'src', 2);

for my $way (sort keys %restore)
{
	my $db = "dst_$way";
	restore_and_compare($node, $restore{$way}, $db, $way, \%content_sql, \%source);

	# the restored pairs are enforced: a full event refuses, with the managed table's name
	my $full = $node->safe_psql('src',
		q{SELECT min(id) FROM "Event" WHERE "spotsReserved" = capacity});
	my ($ret, $out, $err) = $node->psql($db,
		qq{INSERT INTO "Registration" ("eventId", "seatCount") VALUES ($full, 1)},
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	like($err, qr/23514.*\n.*\n.*TABLE NAME:  Registration\nCONSTRAINT NAME:  booking_capacity/s,
		"$way: a registration for a full event gets 23514 on booking_capacity");
	my $room = $node->safe_psql('src',
		q{SELECT min(id) FROM "Event" WHERE "spotsReserved" < capacity});
	my $before = $node->safe_psql($db, qq{SELECT "spotsReserved" FROM "Event" WHERE id = $room});
	$node->safe_psql($db, qq{INSERT INTO "Registration" ("eventId", "seatCount") VALUES ($room, 1)});
	is($node->safe_psql($db, qq{SELECT "spotsReserved" FROM "Event" WHERE id = $room}),
		$before + 1, "$way: a registration with room goes in and its event's counter follows");
	($ret, $out, $err) = $node->psql($db,
		q{INSERT INTO sessions (therapist_id, scheduled_at) VALUES (1, '2030-01-07 08:30+00')});
	like($err, qr/booking conflicts with booking/,
		"$way: a session overlapping a restored one is refused");
	is( $node->safe_psql(
			$db,
			q{INSERT INTO sessions (therapist_id, scheduled_at) VALUES (1, '2030-01-08 08:00+00');
			  SELECT count(*) FROM booking.verify()}),
		'0', "$way: a free session goes in, verify() still empty");
	# a column renamed after the restore is followed there too
	$node->safe_psql($db, q{ALTER TABLE "Event" RENAME COLUMN "spotsReserved" TO reserved});
	is( $node->safe_psql(
			$db, q{SELECT counter_column FROM booking.pair WHERE child = '"Registration"'::regclass}),
		'reserved', "$way: a rename after the restore is followed");
}

$node->stop;
done_testing();
