# A branch office behind a FortiGate: no PBX, only phones registered to the
# hosted PBX over TLS from their voice VLAN. Compiled per site and pushed
# with fortinet.fortios (docs/fleet.md).

use "common" {
  path = "../../common"
  # The branch's DSL line carries a few phones: a tighter limit than the
  # fleet's. The site's rate_limit below replaces the shared one.
  override = ["rate_limit"]
}

target "fortigate" {
  wan     = "wan1"
  lan     = "internal"
  version = "7.4"
}

voice_vlan "phones" {
  id         = 30
  parent     = "lan"
  subnet     = "10.30.30.0/24"
  providers  = ["hostedpbx"]    # a hijacked phone cannot call through anyone else
  management = ["10.30.0.0/24"] # the branch's admin PCs; never the Internet
  dscp       = "ef"
}

# The phones' SRTP range (the same range is in the phones' provisioning).
rtp {
  ports = "16384-16882"
}

rate_limit {
  sip   = "5/second"
  burst = 10
}

expect "hosted pbx tls reaches the phones" {
  from    = "192.0.2.70"
  to      = "5061/tcp"
  verdict = "accept"
}

expect "phones reach the hosted pbx" {
  from    = "10.30.30.50"
  zone    = "phones"
  to      = "192.0.2.65:5061/tcp"
  verdict = "accept"
}

expect "phones cannot call through a rogue provider" {
  from    = "10.30.30.50"
  zone    = "phones"
  to      = "198.18.0.5:5060/udp"
  verdict = "drop"
}
