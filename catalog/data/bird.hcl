# Bird (formerly MessageBird) SIP trunking: one signaling address and a
# block of media addresses per point of presence, UDP 5060 only.
# Its page writes the RTP port range as "10000 - 600000" (past 65535) and
# APAC's media range backwards ("35.234.192.87 - 35.234.192.78"): the
# ranges below read them as 10000-60000 and .78-.87.

entry "bird-eu" {
  provider   = "Bird (MessageBird)"
  region     = "EU"
  family     = "bird"
  signaling  = ["35.205.0.36"]
  media      = ["35.205.0.46/31", "35.205.0.48/29"]
  transports = ["udp"]
  sip_port   = 5060
  verified   = "2026-12-05"
  notes      = "Media 35.205.0.46-35.205.0.55. The page's RTP port range \"10000 - 600000\" is a typo; no media port range is pinned."
  source {
    url    = "https://docs.bird.com/connectivity-platform/sip-trunking/messagebird-ip-whitelist-for-voice-calls"
    owner  = "provider"
    covers = "EU signaling 35.205.0.36 UDP 5060; RTP 35.205.0.46-35.205.0.55"
  }
}

entry "bird-us" {
  provider   = "Bird (MessageBird)"
  region     = "US"
  family     = "bird"
  signaling  = ["35.227.0.132"]
  media      = ["35.227.0.142/31", "35.227.0.144/29"]
  transports = ["udp"]
  sip_port   = 5060
  verified   = "2026-12-05"
  notes      = "Media 35.227.0.142-35.227.0.151."
  source {
    url    = "https://docs.bird.com/connectivity-platform/sip-trunking/messagebird-ip-whitelist-for-voice-calls"
    owner  = "provider"
    covers = "US signaling 35.227.0.132 UDP 5060; RTP 35.227.0.142-35.227.0.151"
  }
}

entry "bird-apac" {
  provider   = "Bird (MessageBird)"
  region     = "APAC"
  family     = "bird"
  signaling  = ["35.234.192.68"]
  media      = ["35.234.192.78/31", "35.234.192.80/29"]
  transports = ["udp"]
  sip_port   = 5060
  verified   = "2026-12-05"
  notes      = "The page writes the media range backwards (35.234.192.87 - 35.234.192.78); read as 35.234.192.78-35.234.192.87."
  source {
    url    = "https://docs.bird.com/connectivity-platform/sip-trunking/messagebird-ip-whitelist-for-voice-calls"
    owner  = "provider"
    covers = "APAC signaling 35.234.192.68 UDP 5060; RTP range as written"
  }
}
