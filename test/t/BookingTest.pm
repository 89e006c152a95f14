# Shared by the TAP tests of booking (test/t/*.pl; prove runs with -I test/t).
package BookingTest;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Cluster;

our @EXPORT_OK = qw(invariant_sql source_node restore_ways restore_and_compare);

# Counters against rows, without the engine's help: one row per resource whose counter is not
# what its rows say (the spots of its consuming rows on a pool, 0 on a timeline resource, which
# keeps no counter), exceeds its capacity or is negative.
sub invariant_sql
{
	return q{
SELECT r.id, r.capacity, r.spots_reserved, e.n
  FROM booking.resource r
  LEFT JOIN (SELECT b.resource_id, sum(b.spots) AS n
               FROM booking.booking b
              WHERE b.status IN ('held', 'pending', 'confirmed', 'completed')
              GROUP BY b.resource_id) c ON c.resource_id = r.id
 CROSS JOIN LATERAL (SELECT CASE WHEN r.timeline THEN 0 ELSE COALESCE(c.n, 0) END AS n) e
 WHERE r.spots_reserved <> e.n
    OR r.spots_reserved > r.capacity
    OR r.spots_reserved < 0};
}

# A started cluster for a dump test, with an empty database src to fill and dump.
sub source_node
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);

	$node->init;
	$node->append_conf('postgresql.conf', "log_statement = none\n");
	$node->start;
	$node->safe_psql('postgres', 'CREATE DATABASE src');
	return $node;
}

# The ways a database is copied with pg_dump and restored, as subs that take the name of a new
# database to restore into: custom format through pg_restore, plain SQL through psql, directory
# format dumped with two jobs and restored with $restore_jobs.
sub restore_ways
{
	my ($node, $tmp, $src, $restore_jobs) = @_;
	my @conn = ('-h', $node->host, '-p', $node->port);

	return (
		custom => sub {
			my ($db) = @_;
			$node->command_ok([ 'pg_dump', @conn, '-Fc', '-f', "$tmp/$src.dump", $src ],
				'custom: pg_dump');
			$node->safe_psql('postgres', "CREATE DATABASE $db");
			$node->command_ok(
				[ 'pg_restore', @conn, '-d', $db, '--exit-on-error', "$tmp/$src.dump" ],
				'custom: pg_restore');
		},
		plain => sub {
			my ($db) = @_;
			$node->command_ok([ 'pg_dump', @conn, '-f', "$tmp/$src.sql", $src ], 'plain: pg_dump');
			$node->safe_psql('postgres', "CREATE DATABASE $db");
			$node->command_ok(
				[
					'psql', @conn, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', "$tmp/$src.sql",
					'-d', $db
				],
				'plain: psql restores the script');
		},
		directory => sub {
			my ($db) = @_;
			$node->command_ok([ 'pg_dump', @conn, '-Fd', '-j', '2', '-f', "$tmp/$src.dir", $src ],
				'directory: pg_dump -j 2');
			$node->safe_psql('postgres', "CREATE DATABASE $db");
			$node->command_ok(
				[
					'pg_restore', @conn, '-d', $db, '-j', $restore_jobs, '--exit-on-error',
					"$tmp/$src.dir"
				],
				"directory: pg_restore -j $restore_jobs");
		},);
}

# Restores one way into database $db, then checks that each query of %$content_sql gives what
# it gave on the source (%$source) and that verify() is empty there.
sub restore_and_compare
{
	my ($node, $restore, $db, $way, $content_sql, $source) = @_;

	$restore->($db);
	for my $what (sort keys %$content_sql)
	{
		Test::More::is($node->safe_psql($db, $content_sql->{$what}),
			$source->{$what}, "$way: $what identical to the source");
	}
	Test::More::is($node->safe_psql($db, 'SELECT count(*) FROM booking.verify()'),
		'0', "$way: verify() is empty");
	return;
}

1;
