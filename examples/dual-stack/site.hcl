# A dual-stack site: the carrier signals and sends media over IPv4 and IPv6.
# voicewall keeps one set per family and writes each rule once per family
# the addresses need, so a v6 scanner is treated exactly like a v4 one.

target "nftables" {
  wan = "eth0"
  lan = "eth1"
}

provider "carrier" {
  signaling  = ["203.0.113.10", "2001:db8:10::/48"]
  media      = ["203.0.113.64/26", "2001:db8:20::/48"]
  transports = ["udp", "tls"] # TLS preferred; UDP kept for the carrier's failover
}

# The PBX sits on the server LAN; voicewall forwards v4 to v4 only (a v6
# call would need the PBX to have a v6 address; it is accepted, not forwarded).
pbx "freepbx" {
  address   = "10.40.0.5"
  providers = ["carrier"]
}

voice_vlan "handsets" {
  id         = 30
  parent     = "lan"
  subnets    = ["10.30.0.0/24", "2001:db8:abcd:30::/64"]
  providers  = [] # handsets talk to the PBX only, never to the Internet
  management = ["10.0.0.0/24", "2001:db8:abcd:1::/64"]
}

rtp {
  ports = "10000-20000"
}

close {
  ports = ["2000/tcp"]
}

rate_limit {
  sip   = "20/second"
  burst = 40
}

log {
  dropped = true
}

expect "carrier over ipv6" {
  from    = "2001:db8:10::1"
  to      = "5061/tcp"
  verdict = "accept"
}

expect "ipv6 scanner" {
  from    = "2001:db8:bad::1"
  to      = "5060/udp"
  verdict = "drop"
}

expect "carrier media over ipv4 reaches the pbx" {
  from    = "203.0.113.70"
  to      = "12000/udp"
  verdict = "accept"
}

expect "handsets never call out directly" {
  from    = "10.30.0.21"
  zone    = "handsets"
  to      = "203.0.113.10:5060/udp"
  verdict = "drop"
}

expect "admin v6 reaches handset web ui" {
  from    = "2001:db8:abcd:1::10"
  zone    = "lan"
  to      = "[2001:db8:abcd:30::21]:443/tcp"
  verdict = "accept"
}

expect "skinny is closed" {
  from    = "198.51.100.66"
  to      = "2000/tcp"
  verdict = "drop"
}

expect "internet cannot reach handset web ui" {
  from    = "198.51.100.66"
  to      = "10.30.0.21:80/tcp"
  verdict = "drop"
}

expect "carrier over ipv4 tls reaches the pbx" {
  from    = "203.0.113.10"
  to      = "5061/tcp"
  verdict = "accept"
}

# Gaps reviewed and accepted for the vendor targets (docs/targets.md): the
# output's header states each one, and any other gap still fails the compile.
target "pfsense" {
  accept_gaps = ["rate_limit", "dscp"] # pf cannot set DSCP; its per-source limits are TCP only
}

target "draytek" {
  accept_gaps = ["rate_limit", "dscp"] # global DoS defence only; DSCP marking syntax unconfirmed
}
