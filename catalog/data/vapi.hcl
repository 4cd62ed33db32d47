# Vapi (AI voice platform, SIP trunk integrations). Its networking page has
# changed several times in 2026; where revisions disagree both are kept.

entry "vapi-us" {
  provider      = "Vapi"
  region        = "US"
  family        = "vapi"
  signaling     = ["44.229.228.186", "44.238.177.138"]
  transports    = ["udp", "tcp", "tls"]
  sip_port      = 5060
  tls_port      = 5061
  media_ports   = "40000-60000"
  dns           = ["sip.vapi.ai"]
  symmetric_rtp = true
  verified      = "2026-12-05"
  notes         = "SOURCES DISAGREE on US media: the first networking page (February 2026) said RTP comes from the two signaling addresses; the current page says US media has no static IPs. Media from any address: use symmetric_rtp."
  source {
    url    = "https://docs.vapi.ai/advanced/sip/sip-networking"
    owner  = "provider"
    covers = "US signaling 44.229.228.186, 44.238.177.138 (sip.vapi.ai); UDP/TCP 5060, TLS 5061; RTP 40000-60000; US media dynamic"
  }
  source {
    url    = "https://github.com/VapiAI/docs/pull/938"
    owner  = "provider"
    seen   = "2026-02-16"
    covers = "first revision: RTP from the signaling addresses"
  }
}

entry "vapi-eu" {
  provider    = "Vapi"
  region      = "EU"
  family      = "vapi"
  signaling   = ["63.182.83.170", "44.233.34.47", "44.233.34.48"]
  media       = ["63.182.83.170"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "40000-60000"
  dns         = ["sip.eu.vapi.ai"]
  verified    = "2026-12-05"
  notes       = "SOURCES DISAGREE: the current networking page lists 63.182.83.170 (signaling and media); an earlier revision (Vapi docs pull request 1055) listed 44.233.34.47 and 44.233.34.48. All three are kept."
  source {
    url    = "https://docs.vapi.ai/advanced/sip/sip-networking"
    owner  = "provider"
    covers = "EU signaling and media 63.182.83.170 (sip.eu.vapi.ai)"
  }
  source {
    url    = "https://github.com/VapiAI/docs/pull/1055"
    owner  = "provider"
    covers = "earlier EU signaling 44.233.34.47, 44.233.34.48"
  }
}
