#!/usr/bin/perl
# Perl Sys::Virt (Debian's libsys-virt-perl) against a running virtd.
# Usage: perl test_perl_client.pl URI RO_URI   (test_perl_client.py starts the daemon)
use strict;
use warnings;

use Sys::Hostname;
use Sys::Virt;
use Test::More;

my ($uri, $ro_uri) = @ARGV;
die "usage: $0 URI RO_URI\n" unless $uri && $ro_uri;

my $uuid = "3eaf4051-6273-4485-b697-a8b9cadbecfd";
my $xml = "<domain type='qemu'><name>perl1</name><uuid>$uuid</uuid>"
    . "<memory unit='MiB'>128</memory><vcpu>2</vcpu>"
    . "<os><type arch='x86_64'>hvm</type></os></domain>";

my $vmm = Sys::Virt->new(uri => $uri);
ok($vmm, "connected to $uri");
is($vmm->get_type, "QEMU", "get_type");
is($vmm->get_hostname, hostname(), "get_hostname");

my $ni = $vmm->get_node_info;
is($ni->{model}, "x86_64", "node model");
ok($ni->{memory} > 0, "node memory");
is($ni->{sockets} * $ni->{cores} * $ni->{threads} * $ni->{nodes}, $ni->{cpus},
   "node topology adds up to the cpus");

my @none = $vmm->list_all_domains;
is(scalar(@none), 0, "no domains at first");

my $dom = $vmm->define_domain($xml);
is($dom->get_name, "perl1", "define_domain");
is($dom->get_uuid_string, $uuid, "its uuid");

my $found = $vmm->get_domain_by_name("perl1");
is($found->get_uuid_string, $uuid, "get_domain_by_name");
is($vmm->get_domain_by_uuid($uuid)->get_name, "perl1", "get_domain_by_uuid");

my $info = $found->get_info;
is($info->{state}, Sys::Virt::Domain::STATE_SHUTOFF, "state shut off");
is($info->{maxMem}, 131072, "maxMem");
is($info->{memory}, 131072, "memory");
is($info->{nrVirtCpu}, 2, "nrVirtCpu");
is($found->is_active, 0, "not active");
is($found->is_persistent, 1, "persistent");

my $desc = $found->get_xml_description;
like($desc, qr{<name>perl1</name>}, "XML has the name");
like($desc, qr{<uuid>\Q$uuid\E</uuid>}, "XML has the uuid");
like($desc, qr{<memory unit='KiB'>131072</memory>}, "XML has the memory in KiB");

my @all = $vmm->list_all_domains;
is_deeply([map { $_->get_name } @all], ["perl1"], "list_all_domains");
my @inactive = $vmm->list_all_domains(Sys::Virt::Domain::LIST_INACTIVE);
is(scalar(@inactive), 1, "list_all_domains(LIST_INACTIVE)");
my @active = $vmm->list_all_domains(Sys::Virt::Domain::LIST_ACTIVE);
is(scalar(@active), 0, "list_all_domains(LIST_ACTIVE)");
is($vmm->num_of_defined_domains, 1, "num_of_defined_domains");
is_deeply([$vmm->list_defined_domain_names(10)], ["perl1"], "list_defined_domain_names");

is($found->get_autostart, 0, "autostart off");
$found->set_autostart(1);
is($found->get_autostart, 1, "set_autostart(1)");
my @auto = $vmm->list_all_domains(Sys::Virt::Domain::LIST_AUTOSTART);
is(scalar(@auto), 1, "list_all_domains(LIST_AUTOSTART)");
$found->set_autostart(0);
is($found->get_autostart, 0, "set_autostart(0)");

# Errors: a missing domain, and a read-only connection.
eval { $vmm->get_domain_by_name("nosuch") };
my $err = $@;
isa_ok($err, "Sys::Virt::Error");
is($err->code, Sys::Virt::Error::ERR_NO_DOMAIN, "missing domain: code");
is($err->message, "Domain not found: no domain with matching name 'nosuch'",
   "missing domain: message");

# A plain connection to the read-only socket: the daemon refuses (readonly => 1 would
# make the client library refuse by itself, before asking the daemon).
my $ro = Sys::Virt->new(uri => $ro_uri);
eval { $ro->define_domain($xml) };
$err = $@;
is($err->code, 29, "read-only define: code (VIR_ERR_OPERATION_DENIED)");
is($err->message, "operation forbidden: read only access prevents DOMAIN_DEFINE_XML",
   "read-only define: message");
my @ro_all = $ro->list_all_domains;
is(scalar(@ro_all), 1, "read-only list_all_domains");

$found->undefine;
my @left = $vmm->list_all_domains;
is(scalar(@left), 0, "undefine");
eval { $vmm->get_domain_by_uuid($uuid) };
is($@->code, Sys::Virt::Error::ERR_NO_DOMAIN, "gone after undefine");

done_testing();
