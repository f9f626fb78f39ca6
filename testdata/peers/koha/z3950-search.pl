#!/usr/bin/perl
# A Z39.50 copy-cataloguing search as Koha's staff client makes it
# (cataloguing > Z39.50/SRU search, C4::Breeding in current Koha),
# written for unicat's tests after Koha's documented behaviour, with the
# client library Koha uses, Net::Z3950::ZOOM (Debian
# libnet-z3950-zoom-perl), and MARC::Record to read the records.
#
# usage: z3950-search.pl HOST PORT DATABASE SYNTAX < searches
#
# Each line of standard input is one filled-in search form: box=value
# pairs separated by tabs, the boxes named as in Koha's form (isbn, issn,
# title, author, dewey, subject, lccall, controlnumber, srchany, stdid,
# publicationyear). For each, this prints
#   query <TAB> the PQF sent
#   hits <TAB> N                        or   error <TAB> code <TAB> message <TAB> addinfo
#   record <TAB> 001 <TAB> 245 $a <TAB> 035 $a;... <TAB> 050 $a;082 $a;... <TAB> 852 $a=$h $i;...
# for each of the first 20 records (Koha's first page).
use strict;
use warnings;
use ZOOM;
use MARC::Record;

binmode STDIN,  ':encoding(UTF-8)';
binmode STDOUT, ':encoding(UTF-8)';

my ($host, $port, $db, $syntax) = @ARGV;
die "usage: $0 HOST PORT DATABASE SYNTAX\n" unless defined $syntax;

# The query each box of Koha's form sends, the box's text in place of %s.
# Koha's dewey box sends the LC call number attribute (16), as Koha does.
my %boxes = (
    isbn            => '@attr 1=7 @attr 5=1 "%s" ',
    issn            => '@attr 1=8 @attr 5=1 "%s" ',
    title           => '@attr 1=4 "%s" ',
    author          => '@attr 1=1003 "%s" ',
    dewey           => '@attr 1=16 "%s" ',
    subject         => '@attr 1=21 "%s" ',
    lccall          => '@attr 1=16 @attr 2=3 @attr 3=1 @attr 4=1 @attr 5=1 @attr 6=1 "%s" ',
    controlnumber   => '@attr 1=12 "%s" ',
    srchany         => '@attr 1=1016 "%s" ',
    stdid           => '@attr 1=1007 "%s" ',
    publicationyear => '@attr 1=31 "%s" ',
);

while (my $line = <STDIN>) {
    chomp $line;
    next if $line eq '';
    my %form = map { split /=/, $_, 2 } split /\t/, $line;
    # Koha goes through the boxes in name order, appends the query of each
    # one filled in, and puts one "@and " in front of the whole for every
    # box but the first.
    my ($pqf, $n) = ('', 0);
    for my $box (sort keys %form) {
        next unless $boxes{$box} && $form{$box} ne '';
        $pqf .= sprintf $boxes{$box}, $form{$box};
        $n++;
    }
    $pqf = '@and ' . $pqf for 2 .. $n;
    print "query\t$pqf\n";
    search($pqf);
}

sub search {
    my ($pqf) = @_;
    # The connection options Koha sets for a Z39.50 server.
    my $o = ZOOM::Options->new();
    $o->option(async                 => 1);
    $o->option(elementSetName        => 'F');
    $o->option(preferredRecordSyntax => $syntax);
    $o->option(databaseName          => $db);
    my $c = ZOOM::Connection->create($o);
    $c->connect($host, $port);
    my $rs = $c->search_pqf($pqf);
    while (ZOOM::event([$c]) != 0) {
        last if $c->last_event() == ZOOM::Event::ZEND;
    }
    my ($err, $msg, $addinfo) = $c->error_x();
    if ($err) {
        print join("\t", 'error', $err, $msg // '', $addinfo // ''), "\n";
    } else {
        my $hits = $rs->size();
        print "hits\t$hits\n";
        # Koha shows 20 records a page.
        for my $i (0 .. ($hits < 20 ? $hits : 20) - 1) {
            my $r = $rs->record($i);
            unless ($r) {
                my ($e, $m) = $c->error_x();
                print "norecord\t$i\t$e\t", $m // '', "\n";
                next;
            }
            print_record(MARC::Record->new_from_usmarc($r->raw()));
        }
    }
    $rs->destroy();
    $c->destroy();
}

sub print_record {
    my ($m) = @_;
    my $id    = $m->field('001') ? $m->field('001')->data() : '';
    my $title = $m->subfield('245', 'a') // '';
    my $sysno = join ';', map { $_->subfield('a') // '' } $m->field('035');
    my $class = join ';', map { $_->subfield('a') // '' } $m->field('050', '082');
    my $held  = join ';', map {
        ($_->subfield('a') // '') . '=' . join(' ', grep { defined } $_->subfield('h'), $_->subfield('i'))
    } $m->field('852');
    print join("\t", 'record', $id, $title, $sysno, $class, $held), "\n";
}
