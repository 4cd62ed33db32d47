# A small business: a cloud PBX trunk over UDP and TCP, a big scanner
# blocklist, a SIP rate limit and logging of what is dropped.
#
# Blocklists are dropped first, before anything else is looked at. The file
# is merged into one interval set (overlaps and duplicates folded), so a
# 100,000-line list is one set lookup per packet, not 100,000 rules.

target "nftables" {
  wan = "eth0"
  lan = "eth1"
}

target "draytek" {
  wan         = "WAN1"
  lan         = "LAN1"
  accept_gaps = ["blocklist", "rate_limit"] # reviewed: see the end of this file
}

provider "cloudpbx" {
  signaling  = ["203.0.113.50", "203.0.113.51"]
  media      = ["203.0.113.128/25"]
  transports = ["udp", "tcp"]
}

pbx "office" {
  address   = "192.168.10.5"
  providers = ["cloudpbx"]
  rtp_ports = "10000-10999" # 500 concurrent calls is plenty for this site
}

rtp {
  ports = "10000-10999"
}

blocklist "scanners" {
  addresses = ["198.51.100.0/24"] # seen brute-forcing extensions last week
  file      = "blocklists/voipbl.txt"
}

close {
  ports = ["2000/tcp", "5080/udp"]
}

# 10 SIP packets a second per source with bursts of 20: enough for a trunk
# with a few concurrent call setups, far too little for a scanner.
rate_limit {
  sip   = "10/second"
  burst = 20
}

# Log drops at most 10 a minute so a flood cannot fill the disk.
log {
  dropped = true
  prefix  = "voicewall"
  rate    = "10/minute"
}

expect "trunk over tcp" {
  from    = "203.0.113.51"
  to      = "5060/tcp"
  verdict = "accept"
}

expect "blocklisted scanner" {
  from    = "198.51.100.23"
  to      = "5060/udp"
  verdict = "drop"
}

expect "blocklisted ipv6 scanner" {
  from    = "2001:db8:bad::9"
  to      = "5060/udp"
  verdict = "drop"
}

expect "rtp above the range is not managed" {
  from    = "203.0.113.130"
  to      = "11000/udp"
  verdict = "accept"
}

expect "rtp from trunk media" {
  from    = "203.0.113.130"
  to      = "10500/udp"
  verdict = "accept"
}

expect "closed alternate sip port" {
  from    = "203.0.113.50"
  to      = "5080/udp"
  verdict = "drop"
}

expect "scanner rtp is dropped" {
  from    = "192.0.2.99"
  to      = "10200/udp"
  verdict = "drop"
}

expect "unknown sip source is dropped" {
  from    = "192.0.2.99"
  to      = "5060/udp"
  verdict = "drop"
}

# Gaps reviewed and accepted (docs/targets.md). The Vigor's object tables
# cannot hold the whole scanner list and its DoS defence is global; pf limits
# new connections per source for TCP only. The output's header states each
# one, and any other gap still fails the compile.
#
# pfSense fetches the blocklist from a web server of yours (a urltable alias,
# refreshed daily): serve the pfsense-blocklist-scanners.txt that compile
# writes beside pfsense.xml from this directory.
target "pfsense" {
  accept_gaps   = ["rate_limit"]
  blocklist_url = "https://lists.example.net/voip/"
}
