# DIDWW. Publishes IPv4 and IPv6 for every location, also as a machine-
# readable file (https://doc.didww.com/voice.json, version 2026-09-16 in the
# copy read). Its RTP subnet was not legible in the stored copy, so media is
# accepted on flows the PBX opened (symmetric_rtp) until it is added.

entry "didww" {
  provider      = "DIDWW"
  region        = "all locations"
  family        = "didww"
  signaling     = [
    "46.19.209.14", "46.19.210.14", "46.19.212.14", "46.19.213.14", "46.19.214.14", "46.19.215.14", "185.238.173.14",
    "2a01:ad00:1:14::14", "2a01:ad00:2:14::14", "2a01:ad00:4:14::14", "2a01:ad00:5:14::14", "2a01:ad00:6:14::14", "2a01:ad00:7:14::14", "2a01:ad00:8:14::14",
    "46.19.209.49", "185.238.173.49", "2a01:ad00:1:1::49", "2a01:ad00:8:1::49",
  ]
  transports    = ["udp", "tcp", "tls"]
  sip_port      = 5060
  tls_port      = 5061
  dns           = ["sip.didww.com", "nyc.sip.didww.com", "ams.sip.didww.com"]
  symmetric_rtp = true
  verified      = "2026-12-05"
  notes         = "Static-endpoint trunks receive INVITEs from the per-location addresses; registered trunks from the registrars sip.didww.com / nyc / ams. Media: use symmetric_rtp (DIDWW's RTP subnet was not legible in the copy read)."
  source {
    url    = "https://doc.didww.com/voice/inbound-trunks/sip-trunks/sip-connectivity-reference.html"
    owner  = "provider"
    covers = "static-endpoint signaling addresses (IPv4 and IPv6) per location; registrar addresses; UDP/TCP 5060, TLS 5061"
  }
  source {
    url    = "https://doc.didww.com/voice.json"
    owner  = "provider"
    seen   = "2026-09-16"
    covers = "the same addresses, machine-readable"
  }
}
