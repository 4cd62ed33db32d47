# An on-premises Asterisk PBX with phones at home and softphones on mobiles.
#
# The trunk's SIP and RTP are forwarded to the PBX as usual. Remote phones
# register from addresses nobody can list in advance, so their SIP (TLS) is
# forwarded from any source, but each untrusted source may open only a few
# new SIP flows a minute. `voicewall watch` reads Asterisk's security log:
# a successful registration trusts the phone's address for trust_for (its
# RTP then reaches the PBX); repeated failed registrations ban the source.
# RTP is never accepted from an address that has not registered.

target "nftables" {
  wan = "eth0"
  lan = "eth1"
}

provider "carrier" {
  signaling  = ["203.0.113.10", "203.0.113.11"]
  media      = ["203.0.113.0/26"]
  transports = ["tls"]
}

pbx "asterisk" {
  address   = "10.20.0.10"
  providers = ["carrier"]
  rtp_ports = "10000-20000"
}

remote_phones {
  pbx        = "asterisk"
  transports = ["tls"]
  rate       = "2/minute" # new SIP flows per untrusted source
  burst      = 5
  trust_for  = "2h"
}

ban {
  default = "1h"
  never   = ["192.0.2.0/24"] # the office's other site
}

watch "asterisk" {
  log      = "/var/log/asterisk/security"
  failures = 3
  within   = "10m"
  ban_for  = "1h"
}

rate_limit {
  sip   = "10/second"
  burst = 20
}

log {
  dropped = true
  prefix  = "voicewall"
  rate    = "10/minute"
}

expect "carrier reaches the pbx" {
  from    = "203.0.113.10"
  to      = "5061/tcp"
  verdict = "accept"
}

expect "a remote phone's SIP reaches the pbx" {
  from    = "198.51.100.66"
  to      = "5061/tcp"
  verdict = "accept"
}

expect "an untrusted address sends no RTP" {
  from    = "198.51.100.66"
  to      = "15000/udp"
  verdict = "drop"
}

expect "a trusted remote phone's RTP reaches the pbx" {
  from    = "198.51.100.66"
  to      = "15000/udp"
  trusted = true
  verdict = "accept"
}

expect "a banned address is dropped on every port" {
  from    = "198.51.100.99"
  to      = "5061/tcp"
  banned  = true
  verdict = "drop"
}

expect "cleartext sip stays closed" {
  from    = "198.51.100.66"
  to      = "5060/udp"
  verdict = "drop"
}

target "pfsense" {
  accept_gaps = ["rate_limit", "responsive"]
}

target "draytek" {
  accept_gaps = ["rate_limit", "responsive"]
}

target "fortigate" {
  accept_gaps = ["responsive"]
}
