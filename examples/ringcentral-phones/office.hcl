# An office whose desk phones register to RingCentral (RingEX, a hosted
# PBX) from their own voice VLAN. There is no PBX on site and nothing is
# forwarded: the phones open every connection towards RingCentral.
#
# `catalog = "ringcentral"` takes RingCentral's published supernets (the
# same ranges for SIP and media), its transports and its SIP ports from
# voicewall's provider catalog, with the URL of RingCentral's page and the
# date it was verified (`voicewall providers show ringcentral`).
# RingCentral's SIP is not on 5060: its phones use UDP and TCP 5090-5099,
# and the catalog says so, so the VLAN's phones may reach exactly those.
# `voicewall providers check` tells when the catalog and the policy drift.
#
# The VLAN's guard is the toll-fraud control: a hijacked phone cannot
# register to anyone but RingCentral, and reaches nothing else on the
# Internet but DNS and NTP.

target "nftables" {
  wan = "eth0"
  lan = "eth1"
}

provider "ringcentral" {
  catalog = "ringcentral"
}

voice_vlan "phones" {
  id         = 30
  parent     = "lan"
  subnet     = "10.30.0.0/24"
  providers  = ["ringcentral"]
  management = ["10.0.0.0/24"] # the IT desk; never the Internet
  dscp       = "ef"
  allow_out  = ["53/udp", "53/tcp", "123/udp"]
}

# The phones' RTP ports (set the same range in the phones' provisioning).
rtp {
  ports = "20000-20999"
}

rate_limit {
  sip   = "5/second"
  burst = 10
}

log {
  dropped = true
  prefix  = "voicewall"
  rate    = "10/minute"
}

expect "a phone registers to ringcentral on its sip port range" {
  from    = "10.30.0.21"
  zone    = "phones"
  to      = "199.68.212.10:5096/udp"
  verdict = "accept"
}

expect "a phone reaches ringcentral sip over tcp" {
  from    = "10.30.0.21"
  zone    = "phones"
  to      = "104.245.57.20:5091/tcp"
  verdict = "accept"
}

expect "a phone sends rtp to ringcentral media" {
  from      = "10.30.0.21"
  from_port = 20100
  zone      = "phones"
  to        = "80.81.130.5:40000/udp"
  verdict   = "accept"
}

expect "a hijacked phone cannot register elsewhere" {
  from    = "10.30.0.21"
  zone    = "phones"
  to      = "198.51.100.5:5060/udp"
  verdict = "drop"
}

expect "a hijacked phone cannot reach another sip server on ringcentral's ports" {
  from    = "10.30.0.21"
  zone    = "phones"
  to      = "198.51.100.5:5090/udp"
  verdict = "drop"
}

expect "a scanner cannot reach the gateway's sip" {
  from    = "198.51.100.66"
  to      = "5060/udp"
  verdict = "drop"
}

target "fortigate" {
  wan     = "wan1"
  lan     = "internal"
  version = "7.4"
}

# Gaps reviewed and accepted for the vendor targets (docs/targets.md): the
# output's header states each one, and any other gap still fails the compile.
target "pfsense" {
  accept_gaps = ["dscp", "rate_limit"]
}

target "draytek" {
  accept_gaps = ["dscp", "rate_limit"]
}
