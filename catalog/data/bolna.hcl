# Bolna (AI voice agents, bring-your-own-trunk): one address for SIP and RTP.

entry "bolna" {
  provider   = "Bolna"
  region     = "all"
  family     = "bolna"
  signaling  = ["13.200.45.61"]
  media      = ["13.200.45.61"]
  transports = ["udp"]
  sip_port   = 5060
  verified   = "2026-12-05"
  notes      = "One SIP media server address sends both SIP INVITEs and RTP. Plain RTP (no SRTP)."
  source {
    url    = "https://www.bolna.ai/docs/byot-setup"
    owner  = "provider"
    covers = "SIP and RTP from 13.200.45.61, origination sip:13.200.45.61:5060"
  }
}
