# An Asterisk/FreePBX PBX behind a Linux gateway, with one SIP trunk over UDP.
#
# The gateway forwards (DNAT) the trunk's SIP and RTP to the PBX and drops
# SIP and RTP from everyone else: SIP scanners ("friendly-scanner",
# sipvicious) hammer port 5060 around the clock looking for weak extensions
# to place fraudulent international calls through (toll fraud).

target "nftables" {
  wan = "eth0" # towards the Internet
  lan = "eth1" # the office LAN with the PBX
}

# The carrier publishes the hosts it sends SIP and RTP from in its
# interconnect guide. Only these may talk to the PBX.
provider "carrier" {
  signaling  = ["203.0.113.10", "203.0.113.11"]
  media      = ["203.0.113.0/26"] # RTP often comes from other hosts than SIP
  transports = ["udp"]            # this trunk offers no TLS; ask for it
  sip_port   = 5060
}

pbx "asterisk" {
  address   = "10.20.0.10"
  providers = ["carrier"]
  # Asterisk's rtp.conf default. Keep rtp.ports equal to it: every port
  # open beyond what the PBX uses is attack surface.
  rtp_ports = "10000-20000"
}

rtp {
  ports = "10000-20000"
}

# Nothing but the trunk should speak SIP to us; these are never needed from
# the Internet: Skinny (SCCP), the Asterisk manager and ARI/HTTP.
close {
  ports = ["2000/tcp", "5038/tcp", "8088/tcp"]
}

# A trunk sends a handful of SIP packets a second; a scanner thousands.
rate_limit {
  sip   = "10/second"
  burst = 20
}

log {
  dropped = true
  prefix  = "voicewall"
  rate    = "10/minute"
}

# Policy tests: `voicewall test examples/asterisk-udp-trunk`.
expect "carrier reaches the pbx" {
  from    = "203.0.113.10"
  to      = "5060/udp"
  verdict = "accept"
}

expect "carrier media reaches the pbx" {
  from    = "203.0.113.20"
  to      = "15000/udp"
  verdict = "accept"
}

expect "scanner is dropped" {
  from    = "198.51.100.66"
  to      = "5060/udp"
  verdict = "drop"
}

expect "stray rtp is dropped" {
  from    = "198.51.100.66"
  to      = "15000/udp"
  verdict = "drop"
}

expect "ami is closed" {
  from    = "203.0.113.10"
  to      = "5038/tcp"
  verdict = "drop"
}

expect "web traffic is not voicewall's business" {
  from    = "198.51.100.66"
  to      = "443/tcp"
  verdict = "accept"
}

expect "attacker cannot reach the pbx address directly" {
  from    = "198.51.100.66"
  to      = "10.20.0.10:5060/udp"
  verdict = "drop"
}

expect "skinny is closed even to the carrier" {
  from    = "203.0.113.10"
  to      = "2000/tcp"
  verdict = "drop"
}

# Gaps reviewed and accepted for the vendor targets (docs/targets.md): the
# output's header states each one, and any other gap still fails the compile.
target "pfsense" {
  accept_gaps = ["rate_limit"] # pf has no per-source UDP rate; its TCP one would block a provider everywhere
}

target "draytek" {
  accept_gaps = ["rate_limit"] # the Vigor's DoS defence is global, not per source
}
