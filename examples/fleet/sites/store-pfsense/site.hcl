# A store behind pfSense with a small FreePBX for its handful of
# extensions, on the carrier's trunk. Compiled per site into pfsense.xml
# and merged into the firewall's exported config (docs/fleet.md).

use "common" {
  path = "../../common"
}

target "pfsense" {
  wan         = "wan"
  lan         = "lan"
  accept_gaps = ["rate_limit"] # reviewed: pf has no per-source UDP rate; its TCP one would block a provider everywhere
}

pbx "freepbx" {
  address   = "192.168.50.5"
  providers = ["carrier"]
  rtp_ports = "10000-10999" # a store needs a few dozen calls at most
}

rtp {
  ports = "10000-10999"
}

expect "carrier reaches the pbx" {
  from    = "203.0.113.11"
  to      = "5060/udp"
  verdict = "accept"
}

expect "stray rtp is dropped" {
  from    = "198.18.0.66"
  to      = "10500/udp"
  verdict = "drop"
}
