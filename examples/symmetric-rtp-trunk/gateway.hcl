# A PBX on a trunk whose carrier does not publish where its media comes from
# (Flowroute sends RTP "from any source IP"; large cloud carriers publish
# /18s or nothing). Opening the RTP range to the whole Internet would invite
# RTP injection, so voicewall accepts this carrier's RTP only as replies on
# flows the PBX opened first (symmetric RTP, "comedia").
#
# On the PBX (Asterisk PJSIP endpoint): direct_media=no, rtp_symmetric=yes,
# force_rport=yes. The PBX then sends RTP first, from the port it receives
# on, and the carrier answers there.

target "nftables" {
  wan = "eth0"
  lan = "eth1"
}

provider "flowroute" {
  signaling     = ["34.226.36.32/28", "16.163.86.112/30"]
  transports    = ["udp"]
  symmetric_rtp = true # media omitted: accepted only on flows the PBX opened
}

pbx "asterisk" {
  address   = "10.20.0.10"
  providers = ["flowroute"]
  rtp_ports = "10000-20000"
}

rtp {
  ports = "10000-20000"
}

rate_limit {
  sip   = "10/second"
  burst = 20
}

log {
  dropped = true
}

# Gaps reviewed and accepted (docs/targets.md): the output's header states
# each one, and any other gap still fails the compile.
target "pfsense" {
  accept_gaps = ["rate_limit", "dscp"] # pf has no per-source UDP rate; its TCP one would block a provider everywhere
}

target "draytek" {
  accept_gaps = ["rate_limit", "dscp"] # the Vigor's DoS defence is global, not per source
}

expect "carrier sip reaches the pbx" {
  from    = "34.226.36.33"
  to      = "5060/udp"
  verdict = "accept"
}

expect "unsolicited rtp from the carrier is dropped" {
  from    = "34.226.36.33"
  to      = "15000/udp"
  verdict = "drop"
}

expect "unsolicited rtp from anywhere else is dropped" {
  from    = "52.1.2.3"
  to      = "10.20.0.10:15000/udp"
  verdict = "drop"
}

expect "a scanner's sip is dropped" {
  from    = "198.51.100.66"
  to      = "5060/udp"
  verdict = "drop"
}

# Desk phones on a voice VLAN registered to the same carrier. Its media is
# unpublished, so their RTP (from the RTP range) may go to any address; SIP
# is judged first, whatever its source port: SIP to anyone but the carrier
# is the toll-fraud drop even when sent from a port of the RTP range.
voice_vlan "phones" {
  id         = 20
  parent     = "lan"
  subnet     = "10.30.0.0/24"
  providers  = ["flowroute"]
  management = ["10.20.0.0/24"]
  allow_out  = ["53/udp", "123/udp"]
}

expect "a phone's rtp reaches an unpublished carrier media address" {
  from      = "10.30.0.50"
  from_port = 10000
  zone      = "phones"
  to        = "52.1.2.3:30000/udp"
  verdict   = "accept"
}

expect "a phone's sip from an rtp port to a rogue server is dropped" {
  from      = "10.30.0.50"
  from_port = 10000
  zone      = "phones"
  to        = "52.1.2.3:5060/udp"
  verdict   = "drop"
}
