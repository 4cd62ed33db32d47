# Headquarters: a Linux gateway in front of an Asterisk PBX that takes the
# carrier's SIP trunk, with the desk phones on their own voice VLAN.
# Applied on the gateway with `voicewall apply` (or the Ansible module
# voicewall.gateway.apply, see docs/fleet.md).

use "common" {
  path = "../../common"
}

target "nftables" {
  wan = "eth0" # towards the Internet
  lan = "eth1" # the office LAN with the PBX; VLANs are tagged on it
}

pbx "asterisk" {
  address   = "10.10.0.10"
  providers = ["carrier"]
  rtp_ports = "10000-20000" # Asterisk's rtp.conf default
}

rtp {
  ports = "10000-20000"
}

voice_vlan "phones" {
  id         = 20
  parent     = "lan"
  subnet     = "10.10.20.0/24"
  providers  = [] # the phones call through the PBX, never straight out
  management = ["10.10.0.0/24"] # the IT desk and the PBX's provisioning server
  dscp       = "ef"
}

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

expect "unknown sip is dropped" {
  from    = "198.18.0.66"
  to      = "5060/udp"
  verdict = "drop"
}

expect "phones cannot call out past the pbx" {
  from    = "10.10.20.50"
  zone    = "phones"
  to      = "198.18.0.5:5060/udp"
  verdict = "drop"
}
