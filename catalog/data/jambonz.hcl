# jambonz.cloud, the hosted jambonz voice platform: its Interoperability
# Spec page lists one SIP signaling address and two RTP media addresses,
# with ports. Carriers and SIP clients reach it through a per-account FQDN
# (mysubdomain.sip.jambonz.cloud), which the page names only as a pattern,
# so no DNS name is listed here.

entry "jambonz-cloud" {
  provider    = "jambonz.cloud"
  region      = "hosted (jambonz.cloud)"
  family      = "jambonz"
  signaling   = ["54.236.168.131"]
  media       = ["54.144.249.44", "3.218.246.146"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "40000-60000"
  verified    = "2026-12-05"
  notes       = "Allow traffic from and to these addresses: SIP from 54.236.168.131 (UDP and TCP 5060, TLS 5061; SIP over WebSockets for WebRTC clients on 8443, not a trunk port), RTP from 54.144.249.44 and 3.218.246.146 on UDP 40000-60000. Send carriers to the account's own SIP FQDN, or to the SIP address where a carrier cannot send to an FQDN."
  source {
    url    = "https://docs.jambonz.org/guides/get-started/jambonz-cloud"
    owner  = "provider"
    covers = "Interoperability Spec: SIP signaling address 54.236.168.131, UDP/TCP 5060, TLS 5061, WSS 8443; RTP media addresses 54.144.249.44 and 3.218.246.146, UDP 40000-60000"
  }
}
