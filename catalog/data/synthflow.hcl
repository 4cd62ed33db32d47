# Synthflow (AI voice platform). Note the non-standard SIP ports.

entry "synthflow" {
  provider    = "Synthflow"
  region      = "Global"
  family      = "synthflow"
  signaling   = ["34.138.86.8", "34.75.151.191", "34.23.45.239", "35.231.28.238"]
  media       = ["34.73.190.14", "35.237.117.4", "34.148.74.207"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 32681
  tls_port    = 32682
  media_ports = "10000-60000"
  dns         = ["sip.synthflow.ai"]
  verified    = "2026-12-05"
  notes       = "SOURCES DISAGREE: the older ACL page lists one signaling address (34.138.86.8); the newer IP allow lists page four. All four are kept. US workspaces also need LATAM media addresses (not legible in the copy read). SIP on 32681 (UDP/TCP) and 32682 (TLS)."
  source {
    url    = "https://docs.synthflow.ai/ip-allow-lists"
    owner  = "provider"
    covers = "Global signaling 34.138.86.8, 34.75.151.191, 34.23.45.239, 35.231.28.238; ports 32681/32682; RTP 10000-60000"
  }
  source {
    url    = "https://docs.synthflow.ai/sip-trunking-acl"
    owner  = "provider"
    covers = "Global media 34.73.190.14, 35.237.117.4, 34.148.74.207; older single signaling address"
  }
}
