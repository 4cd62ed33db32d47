# Telnyx SIP trunking. Telnyx points to sip.telnyx.com for the current
# signaling addresses, media subnets and regional FQDNs; that page's tables
# were not legible in the stored copy read. The signaling pairs below are
# from Telnyx's own failover page; Google's CCAI Platform BYOC list gives
# DIFFERENT pairs for Europe, Canada and Australia. The sources disagree, so
# the regional entries keep both pairs (a firewall must not lock the provider
# out) until sip.telnyx.com settles it: run `voicewall providers check`.
# Media subnets are as Google's list gives them (Telnyx's own were not
# legible); Telnyx's RTP ports are 16384-32768 (its own page).

entry "telnyx-us" {
  provider    = "Telnyx"
  region      = "United States"
  family      = "telnyx"
  signaling   = ["192.76.120.10", "64.16.250.10"]
  media       = ["103.115.244.128/25", "185.246.41.128/25"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "16384-32768"
  dns         = ["sip.telnyx.com"]
  verified    = "2026-12-05"
  notes       = "sip.telnyx.com has A, SRV and NAPTR records; A resolves to the primary only, SRV to both. Whitelist both: inbound calls come from either. Media subnets from a third-party list (see sources)."
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/routing/failover-and-retries"
    owner  = "provider"
    covers = "US signaling 192.76.120.10 (primary), 64.16.250.10 (secondary); sip.telnyx.com SRV resolves to both"
  }
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/network-configuration/ip-whitelisting"
    owner  = "provider"
    covers = "ports: SIP 5060 UDP/TCP, 5061 TLS; RTP 16384-32768 UDP"
  }
  source {
    url    = "https://cloud.google.com/contact-center/ccai-platform/docs/byoc-ip-allow-list"
    owner  = "third-party"
    covers = "the same US pair; media subnets 103.115.244.128/25, 185.246.41.128/25"
  }
}

entry "telnyx-eu" {
  provider    = "Telnyx"
  region      = "Europe"
  family      = "telnyx"
  signaling   = ["5.172.39.10", "5.172.39.25", "185.246.41.140", "185.246.41.141"]
  media       = ["103.115.244.128/25", "185.246.41.128/25"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "16384-32768"
  dns         = ["sip-eu.telnyx.com"]
  verified    = "2026-12-05"
  notes       = "SOURCES DISAGREE: Telnyx's failover page lists 5.172.39.10 and 5.172.39.25; Google's BYOC list 185.246.41.140 and 185.246.41.141. Both pairs are kept until sip.telnyx.com is read."
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/routing/failover-and-retries"
    owner  = "provider"
    covers = "EU signaling 5.172.39.10, 5.172.39.25; regional domain sip-eu.telnyx.com"
  }
  source {
    url    = "https://cloud.google.com/contact-center/ccai-platform/docs/byoc-ip-allow-list"
    owner  = "third-party"
    covers = "EU signaling 185.246.41.140, 185.246.41.141; media subnets"
  }
}

entry "telnyx-ca" {
  provider    = "Telnyx"
  region      = "Canada"
  family      = "telnyx"
  signaling   = ["193.108.220.10", "193.108.220.25", "192.76.120.31", "64.16.250.13"]
  media       = ["103.115.244.128/25", "185.246.41.128/25"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "16384-32768"
  verified    = "2026-12-05"
  notes       = "SOURCES DISAGREE: Telnyx's failover page lists 193.108.220.10 and 193.108.220.25; Google's BYOC list 192.76.120.31 and 64.16.250.13. Both pairs are kept until sip.telnyx.com is read."
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/routing/failover-and-retries"
    owner  = "provider"
    covers = "Canada signaling 193.108.220.10, 193.108.220.25"
  }
  source {
    url    = "https://cloud.google.com/contact-center/ccai-platform/docs/byoc-ip-allow-list"
    owner  = "third-party"
    covers = "Canada signaling 192.76.120.31, 64.16.250.13; media subnets"
  }
}

entry "telnyx-au" {
  provider    = "Telnyx"
  region      = "Australia"
  family      = "telnyx"
  signaling   = ["103.135.104.10", "103.135.104.25", "103.115.244.145", "103.115.244.146"]
  media       = ["103.115.244.128/25", "185.246.41.128/25"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "16384-32768"
  verified    = "2026-12-05"
  notes       = "SOURCES DISAGREE: Telnyx's failover page lists 103.135.104.10 and 103.135.104.25; Google's BYOC list 103.115.244.145 and 103.115.244.146 (inside the media subnet). Both pairs are kept until sip.telnyx.com is read."
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/routing/failover-and-retries"
    owner  = "provider"
    covers = "Australia signaling 103.135.104.10, 103.135.104.25"
  }
  source {
    url    = "https://cloud.google.com/contact-center/ccai-platform/docs/byoc-ip-allow-list"
    owner  = "third-party"
    covers = "Australia signaling 103.115.244.145, 103.115.244.146; media subnets"
  }
}
