# Plivo Zentrunk SIP trunking. Plivo's Zentrunk quickstart page publishes one
# table, "Signaling / Media IP addresses": per region the CIDR blocks that
# carry both SIP (5060 UDP/TCP, 5061 TLS) and media (10000-30000 UDP/TCP),
# and asks that ALL of them be allowed, "as calls might get routed through
# a different region in the event of a service disruption in a specific
# region". plivo-zentrunk is that recommendation; the regional entries are
# for a policy that knows which region serves it and accepts the risk.
#
# The stored copy of the web page shows only its beginning; the table was
# read in a verbatim copy of the page's markdown (plivo.com/docs/sip-trunking.md)
# kept in a public repository. Plivo's own pages disagree on the list:
# - the quickstart page (used here): 14 blocks in 7 regions;
# - the Technical Specifications page ("IP Whitelisting Requirements") in
#   the copy read lists only North California, Virginia, Frankfurt,
#   18.228.70.64/26 for São Paulo and Sydney (no 54.233.191.0/27, no
#   Singapore, no India); its data-center list names Mumbai and Singapore;
# - the Twilio BYOC interconnection guide lists 13.52.9.0/25 only for North
#   California, two Virginia blocks, and Singapore 18.136.1.128/26.
# Every block the shorter lists give is in the quickstart table, so the
# union is the quickstart table. Plivo Voice API (not Zentrunk) inbound SIP
# addresses are not in this file: Plivo's Voice firewall page could not be
# read.

entry "plivo-zentrunk" {
  provider    = "Plivo Zentrunk"
  region      = "all regions (Plivo's recommendation)"
  family      = "plivo"
  signaling   = ["13.52.9.0/25", "216.120.187.128/26", "18.214.109.128/25", "18.215.142.0/26", "204.89.148.128/26", "3.120.121.128/26", "18.228.70.64/26", "54.233.191.0/27", "13.238.202.192/26", "18.136.1.128/26", "204.89.149.128/27", "15.207.90.192/31", "204.89.151.128/27", "204.89.151.160/27"]
  media       = ["13.52.9.0/25", "216.120.187.128/26", "18.214.109.128/25", "18.215.142.0/26", "204.89.148.128/26", "3.120.121.128/26", "18.228.70.64/26", "54.233.191.0/27", "13.238.202.192/26", "18.136.1.128/26", "204.89.149.128/27", "15.207.90.192/31", "204.89.151.128/27", "204.89.151.160/27"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "10000-30000"
  verified    = "2026-12-05"
  notes       = "The same blocks carry signaling and media. Plivo asks that all regions be allowed: calls may be routed through another region during a disruption. Media ports 10000-30000 are published as UDP/TCP. Trunk domains are per trunk (<id>.zt.plivo.com), not a shared host name. Plivo's pages list different subsets of these blocks (see the file's header); this is their union."
  source {
    url    = "https://www.plivo.com/docs/sip-trunking"
    owner  = "provider"
    covers = "the Signaling / Media IP addresses table: all 14 blocks in 7 regions; signaling 5060 UDP/TCP, 5061 TLS; media 10000-30000 UDP/TCP; allow all regions (read in a verbatim copy of the page's markdown, plivo.com/docs/sip-trunking.md)"
  }
  source {
    url    = "https://www.plivo.com/docs/sip-trunking/concepts/technical-specifications"
    owner  = "provider"
    covers = "IP Whitelisting Requirements: a subset (North California, Virginia, Frankfurt, São Paulo 18.228.70.64/26, Sydney); signaling 5060 UDP/TCP, 5061 TLS; media 10000-30000"
  }
}

entry "plivo-north-california" {
  provider    = "Plivo Zentrunk"
  region      = "North California, USA"
  family      = "plivo"
  signaling   = ["13.52.9.0/25", "216.120.187.128/26"]
  media       = ["13.52.9.0/25", "216.120.187.128/26"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "10000-30000"
  verified    = "2026-12-05"
  notes       = "Only the North California, USA blocks. Plivo asks that all regions be allowed (calls may move to another region during a disruption): prefer plivo-zentrunk."
  source {
    url    = "https://www.plivo.com/docs/sip-trunking"
    owner  = "provider"
    covers = "North California, USA: 13.52.9.0/25, 216.120.187.128/26 for signaling (5060 UDP/TCP, 5061 TLS) and media (10000-30000 UDP/TCP) (read in a verbatim copy of the page's markdown)"
  }
}

entry "plivo-virginia" {
  provider    = "Plivo Zentrunk"
  region      = "Virginia, USA"
  family      = "plivo"
  signaling   = ["18.214.109.128/25", "18.215.142.0/26", "204.89.148.128/26"]
  media       = ["18.214.109.128/25", "18.215.142.0/26", "204.89.148.128/26"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "10000-30000"
  verified    = "2026-12-05"
  notes       = "Only the Virginia, USA blocks. Plivo asks that all regions be allowed (calls may move to another region during a disruption): prefer plivo-zentrunk."
  source {
    url    = "https://www.plivo.com/docs/sip-trunking"
    owner  = "provider"
    covers = "Virginia, USA: 18.214.109.128/25, 18.215.142.0/26, 204.89.148.128/26 for signaling (5060 UDP/TCP, 5061 TLS) and media (10000-30000 UDP/TCP) (read in a verbatim copy of the page's markdown)"
  }
}

entry "plivo-frankfurt" {
  provider    = "Plivo Zentrunk"
  region      = "Frankfurt, Germany"
  family      = "plivo"
  signaling   = ["3.120.121.128/26"]
  media       = ["3.120.121.128/26"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "10000-30000"
  verified    = "2026-12-05"
  notes       = "Only the Frankfurt, Germany blocks. Plivo asks that all regions be allowed (calls may move to another region during a disruption): prefer plivo-zentrunk."
  source {
    url    = "https://www.plivo.com/docs/sip-trunking"
    owner  = "provider"
    covers = "Frankfurt, Germany: 3.120.121.128/26 for signaling (5060 UDP/TCP, 5061 TLS) and media (10000-30000 UDP/TCP) (read in a verbatim copy of the page's markdown)"
  }
}

entry "plivo-sao-paulo" {
  provider    = "Plivo Zentrunk"
  region      = "São Paulo, Brazil"
  family      = "plivo"
  signaling   = ["18.228.70.64/26", "54.233.191.0/27"]
  media       = ["18.228.70.64/26", "54.233.191.0/27"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "10000-30000"
  verified    = "2026-12-05"
  notes       = "Only the São Paulo, Brazil blocks. Plivo asks that all regions be allowed (calls may move to another region during a disruption): prefer plivo-zentrunk."
  source {
    url    = "https://www.plivo.com/docs/sip-trunking"
    owner  = "provider"
    covers = "São Paulo, Brazil: 18.228.70.64/26, 54.233.191.0/27 for signaling (5060 UDP/TCP, 5061 TLS) and media (10000-30000 UDP/TCP) (read in a verbatim copy of the page's markdown)"
  }
}

entry "plivo-sydney" {
  provider    = "Plivo Zentrunk"
  region      = "Sydney, Australia"
  family      = "plivo"
  signaling   = ["13.238.202.192/26"]
  media       = ["13.238.202.192/26"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "10000-30000"
  verified    = "2026-12-05"
  notes       = "Only the Sydney, Australia blocks. Plivo asks that all regions be allowed (calls may move to another region during a disruption): prefer plivo-zentrunk."
  source {
    url    = "https://www.plivo.com/docs/sip-trunking"
    owner  = "provider"
    covers = "Sydney, Australia: 13.238.202.192/26 for signaling (5060 UDP/TCP, 5061 TLS) and media (10000-30000 UDP/TCP) (read in a verbatim copy of the page's markdown)"
  }
}

entry "plivo-singapore" {
  provider    = "Plivo Zentrunk"
  region      = "Singapore"
  family      = "plivo"
  signaling   = ["18.136.1.128/26", "204.89.149.128/27"]
  media       = ["18.136.1.128/26", "204.89.149.128/27"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "10000-30000"
  verified    = "2026-12-05"
  notes       = "Only the Singapore blocks. Plivo asks that all regions be allowed (calls may move to another region during a disruption): prefer plivo-zentrunk."
  source {
    url    = "https://www.plivo.com/docs/sip-trunking"
    owner  = "provider"
    covers = "Singapore: 18.136.1.128/26, 204.89.149.128/27 for signaling (5060 UDP/TCP, 5061 TLS) and media (10000-30000 UDP/TCP) (read in a verbatim copy of the page's markdown)"
  }
}

entry "plivo-india" {
  provider    = "Plivo Zentrunk"
  region      = "India"
  family      = "plivo"
  signaling   = ["15.207.90.192/31", "204.89.151.128/27", "204.89.151.160/27"]
  media       = ["15.207.90.192/31", "204.89.151.128/27", "204.89.151.160/27"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "10000-30000"
  verified    = "2026-12-05"
  notes       = "Only the India blocks. Plivo asks that all regions be allowed (calls may move to another region during a disruption): prefer plivo-zentrunk."
  source {
    url    = "https://www.plivo.com/docs/sip-trunking"
    owner  = "provider"
    covers = "India: 15.207.90.192/31, 204.89.151.128/27, 204.89.151.160/27 for signaling (5060 UDP/TCP, 5061 TLS) and media (10000-30000 UDP/TCP) (read in a verbatim copy of the page's markdown)"
  }
}
