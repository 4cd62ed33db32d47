# Twilio Elastic SIP Trunking. Twilio's "IP Addresses for Elastic SIP Trunking
# Services" page (https://www.twilio.com/docs/sip-trunking/ip-addresses, its
# markdown copy dated 2026-03-09) lists one global media range and, under
# "Regional signaling IP gateways", one /30 per edge location, each with
# "Ports: 5060 (UDP/TCP), 5061 (TLS)":
#
#   North America Virginia (ashburn, us1)    54.172.60.0/30
#   North America Oregon (umatilla, us2)     54.244.51.0/30
#   Europe Ireland (dublin, ie1)             54.171.127.192/30
#   Europe Frankfurt (frankfurt, de1)        35.156.191.128/30
#   Asia-Pacific Tokyo (tokyo, jp1)          54.65.63.192/30
#   Asia-Pacific Singapore (singapore, sg1)  54.169.127.128/30
#   Asia-Pacific Sydney (sydney, au1)        54.252.254.64/30
#   South America Sao Paulo (sao-paulo, br1) 177.71.206.192/30
#
# Twilio lists no other signaling ranges (no extra blocks per edge, no IPv6)
# and no per-region media ranges any more. It asks that ALL signaling ranges
# be allowed ("if North America Virginia gateways are down, then North
# America Oregon gateways will be used"); twilio-all is that recommendation,
# the regional entries are for a policy that pins one edge.
#
# The search index's copies of Twilio's page end just before the signaling
# table; the table was read in a verbatim copy of the same markdown (its
# title, media table and signaling introduction are word for word Twilio's
# stored copy). Google's CCAI Platform BYOC allow list repeats the same eight
# /30s and the same ports, and is kept as a cross-check.
#
# Sources disagree on the media move's date: Twilio's Interconnect page says
# "On February 21, 2024, Twilio updated the media IPs and port ranges for
# calls in all regions to 168.86.128.0/18"; public-Internet trunks were moved
# between September and October 2023. Either way the old per-region media
# ranges no longer carry traffic.

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
  notes         = "Media from 168.86.128.0/18 on UDP 10000-60000 in every region. Signaling ranges are per edge; Twilio fails over between edges, so allow all of them. Google's BYOC allow list gives the same eight /30s."
  source {
    url    = "https://www.twilio.com/docs/sip-trunking/ip-addresses"
    owner  = "provider"
    seen   = "2026-03-09"
    covers = "regional signaling /30s for us1, us2, ie1, de1, jp1, sg1, au1, br1, each 5060 UDP/TCP and 5061 TLS; allow ALL of them; global media range 168.86.128.0/18, UDP 10000-60000"
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
    covers = "cross-check: the same eight signaling /30s, media 168.86.128.0/18, signaling 5060 UDP and 5061 TCP/TLS"
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
    covers = "North America Virginia 54.172.60.0/30, North America Oregon 54.244.51.0/30, 5060 UDP/TCP and 5061 TLS; global media range 168.86.128.0/18, UDP 10000-60000"
  }
  source {
    url    = "https://cloud.google.com/contact-center/ccai-platform/docs/byoc-ip-allow-list"
    owner  = "third-party"
    covers = "cross-check: North America 54.172.60.0/30, 54.244.51.0/30"
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
    covers = "Europe Ireland 54.171.127.192/30, Europe Frankfurt 35.156.191.128/30, 5060 UDP/TCP and 5061 TLS; global media range 168.86.128.0/18, UDP 10000-60000"
  }
  source {
    url    = "https://cloud.google.com/contact-center/ccai-platform/docs/byoc-ip-allow-list"
    owner  = "third-party"
    covers = "cross-check: Europe 54.171.127.192/30 (Ireland), 35.156.191.128/30 (Germany)"
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
    covers = "Asia-Pacific Tokyo 54.65.63.192/30, Singapore 54.169.127.128/30, Sydney 54.252.254.64/30, 5060 UDP/TCP and 5061 TLS; global media range 168.86.128.0/18, UDP 10000-60000"
  }
  source {
    url    = "https://cloud.google.com/contact-center/ccai-platform/docs/byoc-ip-allow-list"
    owner  = "third-party"
    covers = "cross-check: Asia Pacific 54.65.63.192/30 (Japan), 54.169.127.128/30 (Singapore), 54.252.254.64/30 (Australia)"
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
    covers = "South America Sao Paulo 177.71.206.192/30, 5060 UDP/TCP and 5061 TLS; global media range 168.86.128.0/18, UDP 10000-60000"
  }
  source {
    url    = "https://cloud.google.com/contact-center/ccai-platform/docs/byoc-ip-allow-list"
    owner  = "third-party"
    covers = "cross-check: South America 177.71.206.192/30"
  }
}
