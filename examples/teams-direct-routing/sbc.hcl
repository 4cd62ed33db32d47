# A session border controller (SBC) paired with Microsoft Teams Direct
# Routing, behind a gateway.
#
# Microsoft publishes the subnets its SIP proxies and media processors use;
# voicewall's provider catalog carries them with the URL of Microsoft's page
# and the date they were verified (`voicewall providers show
# microsoft-teams`). `catalog = "microsoft-teams"` takes signaling, media,
# transports (TLS only) and the TLS port from there, so the policy never
# holds a copied list that goes stale. `voicewall providers check` says when
# a catalog update or the policy's own ranges drift apart.

target "nftables" {
  wan = "eth0" # towards the Internet
  lan = "eth1" # the LAN with the SBC
}

provider "teams" {
  catalog = "microsoft-teams"
}

pbx "sbc" {
  address   = "10.20.0.20"
  providers = ["teams"]
  # The SBC's media port range towards Teams (set the same on the SBC).
  rtp_ports = "20000-21999"
}

rtp {
  ports = "20000-21999"
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

expect "teams sip proxy reaches the sbc over tls" {
  from    = "52.114.148.0"
  to      = "5061/tcp"
  verdict = "accept"
}

expect "teams media processor reaches the sbc" {
  from    = "52.113.10.10"
  to      = "20100/udp"
  verdict = "accept"
}

expect "cleartext sip is closed" {
  from    = "52.114.148.0"
  to      = "5060/udp"
  verdict = "drop"
}

expect "a scanner cannot reach the sbc" {
  from    = "198.51.100.66"
  to      = "5061/tcp"
  verdict = "drop"
}

# Gaps reviewed and accepted for the vendor targets (docs/targets.md): the
# output's header states each one, and any other gap still fails the compile.
target "fortigate" {
  wan     = "wan1"
  lan     = "internal"
  version = "7.4"
}

target "pfsense" {
  accept_gaps = ["rate_limit"]
}

target "draytek" {
  accept_gaps = ["rate_limit"]
}
