#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# Writes the small MaxMind-format database the monitor's tests place addresses with, using
# MaxMind's own writer (Debian: libmaxmind-db-writer-perl), so that Barra's reader is checked
# against an independent implementation of the format. Usage: make-mmdb.pl OUT.mmdb
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my %types = (country => 'map', iso_code => 'utf8_string', location => 'map',
             latitude => 'double', longitude => 'double');
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version => 6, record_size => 24, database_type => 'Barra-Test-City',
    languages => ['en'], description => {en => 'Barra test places'},
    map_key_type_callback => sub { $types{ $_[0] } }, remove_reserved_networks => 0);
# documentation and private ranges, placed in cities whose distances are known
my %places = (
    '10.1.0.0/16'     => ['MO', 22.1987, 113.5439],   # Macau
    '10.2.0.0/16'     => ['GB', 51.5072, -0.1276],    # London
    '10.3.0.0/16'     => ['HK', 22.3193, 114.1694],   # Hong Kong
    '10.4.0.0/16'     => ['JP', 35.6762, 139.6503],   # Tokyo
    '2001:db8::/32'   => ['SG', 1.3521, 103.8198],    # Singapore
);
for my $net (sort keys %places) {
    my ($cc, $lat, $lon) = @{ $places{$net} };
    $tree->insert_network($net, {country => {iso_code => $cc},
                                 location => {latitude => $lat, longitude => $lon}});
}
open my $fh, '>:raw', $ARGV[0] or die "$ARGV[0]: $!";
$tree->write_tree($fh);
close $fh or die "$ARGV[0]: $!";
