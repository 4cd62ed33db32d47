# Twilio Elastic SIP Trunking. Twilio publishes one global media range and
# one signaling range per edge location, and asks that ALL signaling ranges
# be allowed ("if North America Virginia gateways are down, then North
# America Oregon gateways will be used"). twilio-all is that recommendation;
# the regional entries are for a policy that pins one edge.
#
# Sources disagree on the media move's date: Twilio's Interconnect page says
# "On February 21, 2024, Twilio updated the media IPs and port ranges for
# calls in all regions to 168.86.128.0/18"; public-Internet trunks were moved
# between September and October 2023. Either way the old per-region media
# ranges no longer carry traffic.
#
# Twilio's own signaling table was not legible in the stored copy that was
# read (the page's text was, its table was not); the per-region signaling
# ranges below are as Google's CCAI Platform BYOC allow list repeats them.
# Re-check them against Twilio's table when you can.

entry "twilio-all" {
  provider      = "Twilio Elastic SIP Trunking"
  region        = "all edge locations (Twilio's recommendation)"
  family        = "twilio"
  signaling     = ["54.172.60.0/30", "54.244.51.0/30", "177.71.206.192/30", "54.171.127.192/30", "35.156.191.128/30", "54.65.63.192/30", "54.169.127.128/30", "54.252.254.64/30"]
  media         = ["168.86.128.0/18"]
  transports    = ["udp", "tcp", "tls"]
  sip_port      = 5060
  tls_port      = 5061
  media_ports   = "10000-60000"
  verified      = "2026-12-05"
  notes         = "Media from 168.86.128.0/18 on UDP 10000-60000 in every region. Signaling ranges are per edge; Twilio fails over between edges, so allow all of them."
  source {
    url    = "https://www.twilio.com/docs/sip-trunking/ip-addresses"
    owner  = "provider"
    seen   = "2026-03-09"
    covers = "global media range 168.86.128.0/18, UDP 10000-60000; allow ALL regional signaling ranges"
  }
  source {
    url    = "https://www.twilio.com/docs/voice/api/sip-interconnect"
    owner  = "provider"
    seen   = "2026-06-22"
    covers = "media moved to 168.86.128.0/18 and UDP 10000-60000 in all regions; old ranges no longer carry traffic"
  }
  source {
    url    = "https://cloud.google.com/contact-center/ccai-platform/docs/byoc-ip-allow-list"
    owner  = "third-party"
    covers = "the per-region signaling /30 ranges; signaling ports 5060 UDP, 5061 TCP and TLS"
  }
}

entry "twilio-na" {
  provider    = "Twilio Elastic SIP Trunking"
  region      = "North America (Virginia us1, Oregon us2)"
  family      = "twilio"
  signaling   = ["54.172.60.0/30", "54.244.51.0/30"]
  media       = ["168.86.128.0/18"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "10000-60000"
  verified    = "2026-12-05"
  notes       = "Only North America's signaling edges: Twilio may fail over to another edge; prefer twilio-all unless every call is pinned with the edge parameter."
  source {
    url    = "https://www.twilio.com/docs/sip-trunking/ip-addresses"
    owner  = "provider"
    seen   = "2026-03-09"
    covers = "global media range 168.86.128.0/18, UDP 10000-60000"
  }
  source {
    url    = "https://cloud.google.com/contact-center/ccai-platform/docs/byoc-ip-allow-list"
    owner  = "third-party"
    covers = "North America signaling 54.172.60.0/30, 54.244.51.0/30"
  }
}

entry "twilio-eu" {
  provider    = "Twilio Elastic SIP Trunking"
  region      = "Europe (Dublin ie1, Frankfurt de1)"
  family      = "twilio"
  signaling   = ["54.171.127.192/30", "35.156.191.128/30"]
  media       = ["168.86.128.0/18"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "10000-60000"
  verified    = "2026-12-05"
  notes       = "Only Europe's signaling edges: prefer twilio-all unless every call is pinned with the edge parameter."
  source {
    url    = "https://www.twilio.com/docs/sip-trunking/ip-addresses"
    owner  = "provider"
    seen   = "2026-03-09"
    covers = "global media range 168.86.128.0/18, UDP 10000-60000"
  }
  source {
    url    = "https://cloud.google.com/contact-center/ccai-platform/docs/byoc-ip-allow-list"
    owner  = "third-party"
    covers = "Europe signaling 54.171.127.192/30 (Ireland), 35.156.191.128/30 (Germany)"
  }
}

entry "twilio-apac" {
  provider    = "Twilio Elastic SIP Trunking"
  region      = "Asia Pacific (Tokyo jp1, Singapore sg1, Sydney au1)"
  family      = "twilio"
  signaling   = ["54.65.63.192/30", "54.169.127.128/30", "54.252.254.64/30"]
  media       = ["168.86.128.0/18"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "10000-60000"
  verified    = "2026-12-05"
  notes       = "Only Asia Pacific's signaling edges: prefer twilio-all unless every call is pinned with the edge parameter."
  source {
    url    = "https://www.twilio.com/docs/sip-trunking/ip-addresses"
    owner  = "provider"
    seen   = "2026-03-09"
    covers = "global media range 168.86.128.0/18, UDP 10000-60000"
  }
  source {
    url    = "https://cloud.google.com/contact-center/ccai-platform/docs/byoc-ip-allow-list"
    owner  = "third-party"
    covers = "Asia Pacific signaling 54.65.63.192/30 (Japan), 54.169.127.128/30 (Singapore), 54.252.254.64/30 (Australia)"
  }
}

entry "twilio-sa" {
  provider    = "Twilio Elastic SIP Trunking"
  region      = "South America (Sao Paulo br1)"
  family      = "twilio"
  signaling   = ["177.71.206.192/30"]
  media       = ["168.86.128.0/18"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "10000-60000"
  verified    = "2026-12-05"
  notes       = "Only South America's signaling edge: prefer twilio-all unless every call is pinned with the edge parameter."
  source {
    url    = "https://www.twilio.com/docs/sip-trunking/ip-addresses"
    owner  = "provider"
    seen   = "2026-03-09"
    covers = "global media range 168.86.128.0/18, UDP 10000-60000"
  }
  source {
    url    = "https://cloud.google.com/contact-center/ccai-platform/docs/byoc-ip-allow-list"
    owner  = "third-party"
    covers = "South America signaling 177.71.206.192/30"
  }
}
