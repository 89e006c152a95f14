
# Copyright: the booking authors; see the repository's licence.

# pg_dump round trip.  The extension registers its tables and their identity sequences with
# pg_extension_config_dump, so a dump carries resources, bookings, the audit and the sequences'
# positions; booking.pair only its rows past the extension's own (WHERE id > 1).  A database
# with bookings in every status, refusals in the audit, cancellations, moves and deletions is
# dumped and restored four ways:
#   custom format through pg_restore, plain SQL through psql, directory format dumped with two
#   jobs (and restored in one), and a data-only dump restored with --disable-triggers into a
#   database where the extension was created first.
# Each copy must hold the same rows (every column), the same counters and sequence positions,
# one booking.pair row, an empty verify(), and an engine that goes on admitting and refusing
# with new ids past the old ones.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use BookingTest qw(source_node invariant_sql restore_ways restore_and_compare);

my $node = source_node('dump');
$node->safe_psql(
	'src', q{
CREATE EXTENSION booking;
INSERT INTO booking.resource (name, capacity, meta)
SELECT format('class %s', g), g % 6, jsonb_build_object('room', g)
  FROM generate_series(1, 20) g;
-- Through the API: many fill their pool, the rest are refused and audited.
SELECT count(*) FROM (
	SELECT booking.book_slot(1 + (g * 7) % 20, 1 + g % 3, holder => format('member %s', g % 9))
	  FROM generate_series(1, 80) g) s;
-- Direct writes in every status.
INSERT INTO booking.booking (resource_id, holder, spots, status, meta)
SELECT r.id, 'front desk', 1, s.status, jsonb_build_object('note', s.status::text)
  FROM booking.resource r
 CROSS JOIN (VALUES ('waitlisted'::booking.status), ('cancelled'), ('expired')) s(status)
 WHERE r.id % 4 = 0;
SELECT count(*) FROM (
	SELECT booking.cancel(id, 'changed plans')
	  FROM booking.booking WHERE status = 'confirmed' AND id % 5 = 0) s;
UPDATE booking.booking SET status = 'completed' WHERE status = 'confirmed' AND id % 7 = 0;
INSERT INTO booking.booking (resource_id, holder, spots, status)
SELECT id, 'approval desk', 1, 'pending'
  FROM booking.resource WHERE capacity - spots_reserved >= 1 ORDER BY id LIMIT 3;
INSERT INTO booking.booking (resource_id, holder, spots, status, expires_at, hold_token_digest)
SELECT min(id), 'web checkout', 1, 'held', '2100-01-01 00:00+00', '\x00ff10'::bytea
  FROM booking.resource WHERE capacity - spots_reserved >= 1;
DELETE FROM booking.booking WHERE status = 'confirmed' AND id % 13 = 0;
UPDATE booking.resource SET capacity = capacity + 3 WHERE id IN (5, 6);
-- Policies on new requests that past bookings no longer meet: a restore must bring them back.
UPDATE booking.resource SET max_per_holder = 0 WHERE id = 7;
INSERT INTO booking.resource (name, capacity, timeline) VALUES ('studio', 1, true);
INSERT INTO booking.booking (resource_id, holder, during)
SELECT max(id), 'early bird', tstzrange(now() + interval '1 hour', now() + interval '2 hours')
  FROM booking.resource;
UPDATE booking.resource SET min_notice = '1 day' WHERE name = 'studio';
});

# Counters against rows, without the engine's help: one row per broken resource.
my $invariant_sql = invariant_sql();

# What must come back, table by table, every column.
my %content_sql = (
	resource => 'SELECT string_agg(t::text, E\'\n\' ORDER BY t.id) FROM booking.resource t',
	booking  => 'SELECT string_agg(t::text, E\'\n\' ORDER BY t.id) FROM booking.booking t',
	attempt  => 'SELECT string_agg(t::text, E\'\n\' ORDER BY t.id) FROM booking.attempt t',
	counters =>
	  'SELECT string_agg(id || \'=\' || spots_reserved || \'/\' || capacity, \' \' ORDER BY id) FROM booking.resource',
	sequences => q{
		SELECT string_agg(format('%s %s %s', n, s.last_value, s.is_called), ', ' ORDER BY n)
		  FROM (SELECT 'resource' AS n, last_value, is_called FROM booking.resource_id_seq
		        UNION ALL SELECT 'booking', last_value, is_called FROM booking.booking_id_seq
		        UNION ALL SELECT 'attempt', last_value, is_called FROM booking.attempt_id_seq) s},
	pair => 'SELECT string_agg(t::text, E\'\n\' ORDER BY t.id) FROM booking.pair t',);

my %source = map { $_ => $node->safe_psql('src', $content_sql{$_}) } keys %content_sql;

# The source is worth dumping: refusals in the audit, every kind of row, full pools.
is($node->safe_psql('src', 'SELECT count(*) FROM booking.verify()'),
	'0', 'source: verify() is empty');
is( $node->safe_psql(
		'src', q{
		SELECT (SELECT count(*) FILTER (WHERE NOT ok) > 0 AND count(*) FILTER (WHERE ok) > 0
		          FROM booking.attempt WHERE action = 'book')
		   AND (SELECT count(DISTINCT status) = 7 FROM booking.booking)
		   AND (SELECT count(*) > 0 FROM booking.resource
		         WHERE spots_reserved = capacity AND capacity > 0)}),
	't',
	'source: refusals audited, every status present, some pools full');

my $tmp = PostgreSQL::Test::Utils::tempdir;
my @conn = ('-h', $node->host, '-p', $node->port);

# Dumped in parallel, restored in one job: pg_restore -j loads the data of an extension's tables in
# any order (the archive records only pg_dump's sort order between them, not a dependency), so
# booking rows can arrive before their resources and are refused, as an extension's foreign keys
# refuse them; see the troubleshooting notes.
my %restore = (
	restore_ways($node, $tmp, 'src', 1),
	data_only => sub {
		my ($db) = @_;
		$node->command_ok(
			[ 'pg_dump', @conn, '--data-only', '-Fc', '-f', "$tmp/src.data", 'src' ],
			'data_only: pg_dump --data-only');
		$node->safe_psql('postgres', "CREATE DATABASE $db");
		$node->safe_psql($db, 'CREATE EXTENSION booking');
		$node->command_ok(
			[
				'pg_restore', @conn, '-d', $db, '--exit-on-error', '--disable-triggers',
				"$tmp/src.data"
			],
			'data_only: pg_restore --disable-triggers');
		# booking.queue is not dumped and no trigger filled it: repair() rebuilds it, and the
		# counters, dumped consistent, need nothing
		is( $node->safe_psql(
				$db,
				'SELECT count(*) FILTER (WHERE new_reserved IS NULL) > 0,
				        count(*) FILTER (WHERE new_reserved IS NOT NULL)
				   FROM booking.repair()'),
			't|0',
			'data_only: repair() rebuilds booking.queue and rewrites no counter');
	},);

for my $way (sort keys %restore)
{
	my $db = "dst_$way";
	restore_and_compare($node, $restore{$way}, $db, $way, \%content_sql, \%source);
	is($node->safe_psql($db, 'SELECT count(*) FROM booking.pair'),
		'1', "$way: booking.pair has exactly one row");
	is($node->safe_psql($db, $invariant_sql),
		'', "$way: every counter equals its rows' spots and fits its capacity");

	# The engine carries on where the source stopped: new ids after the old ones, the same
	# capacity decisions.
	my $full = $node->safe_psql('src',
		'SELECT min(id) FROM booking.resource WHERE spots_reserved = capacity AND capacity > 0');
	is($node->safe_psql($db, "SELECT ok, reason FROM booking.book_slot($full, 1)"),
		'f|full', "$way: a pool full in the source refuses");
	my $room = $node->safe_psql('src',
		'SELECT min(id) FROM booking.resource WHERE spots_reserved < capacity');
	is( $node->safe_psql(
			$db,
			"SELECT ok AND booking_id > (SELECT max(id) FROM booking.booking WHERE id <> r.booking_id)
			   FROM booking.book_slot($room, 1) r"),
		't',
		"$way: a pool with room admits, with a booking id past the restored ones");
	my ($ret, $out, $err) = $node->psql($db,
		"INSERT INTO booking.booking (resource_id, holder, spots) VALUES ($full, 'late', 1)");
	like($err, qr/has not enough free spots/, "$way: a direct INSERT over capacity is refused");
	is( $node->safe_psql(
			$db,
			"INSERT INTO booking.resource (name, capacity) VALUES ('new', 2)
			 RETURNING id > (SELECT max(id) FROM booking.resource WHERE name <> 'new')"),
		't',
		"$way: a new resource gets an id past the restored ones");
	is($node->safe_psql($db, 'SELECT count(*) FROM booking.verify()'),
		'0', "$way: verify() is still empty");
}

$node->stop;
done_testing();
