# Trunk and hosted-PBX providers every site of the fleet may use. Their
# addresses come from the providers' interconnect guides; when a provider
# adds a media range, change it here once and roll it out to every site
# (docs/fleet.md).

# The SIP trunk the sites with their own PBX use. It offers no TLS.
provider "carrier" {
  signaling  = ["203.0.113.10", "203.0.113.11"]
  media      = ["203.0.113.0/26"] # RTP often comes from other hosts than SIP
  transports = ["udp"]
  sip_port   = 5060
}

# The hosted PBX the branches without a PBX register their phones to,
# over TLS (SIP) and SRTP (media).
provider "hostedpbx" {
  signaling  = ["192.0.2.64/28"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
  tls_port   = 5061
}
