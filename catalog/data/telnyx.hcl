# Telnyx SIP trunking. Telnyx points to its SIP Info page (sip.telnyx.com)
# for the current signaling addresses, media subnets and regional FQDNs. Its
# signaling table was read in the copy served from sipdev.telnyx.com (the
# copy of sip.telnyx.com.au in the index has the tables stripped); the media
# subnets, which that copy cut off, are from Telnyx's help-center article
# "Whitelisting Telnyx IP Addresses" (dated March 25, 2025), read in Telnyx's
# own knowledge-base repository (team-telnyx/knowledge-base). Both give the
# same signaling pairs:
#
#   US         sip.telnyx.com     192.76.120.10    64.16.250.10
#   Europe     sip.telnyx.eu      185.246.41.140   185.246.41.141
#   Australia  sip.telnyx.com.au  103.115.244.145  103.115.244.146
#   Canada     sip.telnyx.ca      192.76.120.31    64.16.250.13
#   Asia(beta) sip.telnyx.asia    103.115.244.158  103.115.244.159  (SIP Info page only)
#
# Telnyx's developer pages disagree with that for Europe, Canada and
# Australia: "Failover and retries" lists EU 5.172.39.10/.25, Canada
# 193.108.220.10/.25, Australia 103.135.104.10/.25; "SRV records" lists the
# same EU and Canada pairs (sip-eu.telnyx.com, sip-ca.telnyx.com) but
# Australia 193.108.104.10/.25 (sip-au.telnyx.com). Telnyx's own pages
# disagree, so those entries keep every pair (a firewall must not lock the
# provider out) until sip.telnyx.com settles it: run `voicewall providers
# check`. The US pair is the same on every page.
#
# Media: Telnyx publishes one global list of subnets (no region attribution)
# and RTP ports 16384-32768 UDP; every entry carries the whole list. Telnyx
# says it adds media ranges from time to time (sip.telnyx.com/#media is the
# current list). Google's CCAI Platform BYOC list, used before, repeats the
# sip.telnyx.com signaling pairs and only two of the media subnets; nothing
# here rests on it any more, so it is no longer a source.
#
# Not here, and worth checking: configurations published by third parties
# quote a Telnyx notice adding media subnets (103.115.247.0/24 in use since
# August 2026, and others) and a Middle East signaling pair. No Telnyx copy
# read shows them, so they are not in the catalog. One-way audio from
# Telnyx is the symptom: compare sip.telnyx.com/#media with `voicewall
# providers show telnyx-us`, and add a missing subnet next to catalog (media
# written in the block is added to the entry's).

entry "telnyx-us" {
  provider    = "Telnyx"
  region      = "United States"
  family      = "telnyx"
  signaling   = ["192.76.120.10", "64.16.250.10"]
  media       = ["36.255.198.128/25", "50.114.136.128/25", "50.114.144.0/21", "64.16.226.0/24", "64.16.227.0/24", "64.16.228.0/24", "64.16.229.0/24", "64.16.230.0/24", "64.16.248.0/24", "64.16.249.0/24", "103.115.244.128/25", "185.246.41.128/25"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "16384-32768"
  dns         = ["sip.telnyx.com"]
  verified    = "2026-12-05"
  notes       = "sip.telnyx.com has A, SRV and NAPTR records; A resolves to the first address only, SRV and NAPTR to both. Whitelist both: inbound calls may come from either. Media subnets are Telnyx's global list."
  source {
    url    = "https://sipdev.telnyx.com/"
    owner  = "provider"
    covers = "SIP Info page: US sip.telnyx.com 192.76.120.10, 64.16.250.10; A records resolve to IP address 1, SRV and NAPTR to both"
  }
  source {
    url    = "https://support.telnyx.com/en/articles/1130687-whitelisting-telnyx-ip-addresses"
    owner  = "provider"
    seen   = "2025-03-25"
    covers = "US sip.telnyx.com primary 192.76.120.10, secondary 64.16.250.10; the twelve media subnets"
  }
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/routing/failover-and-retries"
    owner  = "provider"
    covers = "the same US pair as primary (IP1) and secondary (IP2)"
  }
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/network-configuration/ip-whitelisting"
    owner  = "provider"
    covers = "ports: SIP 5060 UDP/TCP, SIP TLS 5061, RTP 16384-32768 UDP"
  }
}

entry "telnyx-eu" {
  provider    = "Telnyx"
  region      = "Europe"
  family      = "telnyx"
  signaling   = ["185.246.41.140", "185.246.41.141", "5.172.39.10", "5.172.39.25"]
  media       = ["36.255.198.128/25", "50.114.136.128/25", "50.114.144.0/21", "64.16.226.0/24", "64.16.227.0/24", "64.16.228.0/24", "64.16.229.0/24", "64.16.230.0/24", "64.16.248.0/24", "64.16.249.0/24", "103.115.244.128/25", "185.246.41.128/25"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "16384-32768"
  dns         = ["sip.telnyx.eu", "sip-eu.telnyx.com"]
  verified    = "2026-12-05"
  notes       = "TELNYX'S PAGES DISAGREE: the SIP Info page and the help-center article list sip.telnyx.eu 185.246.41.140 and 185.246.41.141; the developer pages (failover, SRV records) list sip-eu.telnyx.com 5.172.39.10 and 5.172.39.25. Both pairs are kept until sip.telnyx.com settles it."
  source {
    url    = "https://sipdev.telnyx.com/"
    owner  = "provider"
    covers = "SIP Info page: Europe sip.telnyx.eu 185.246.41.140, 185.246.41.141"
  }
  source {
    url    = "https://support.telnyx.com/en/articles/1130687-whitelisting-telnyx-ip-addresses"
    owner  = "provider"
    seen   = "2025-03-25"
    covers = "Europe sip.telnyx.eu 185.246.41.140, 185.246.41.141; the twelve media subnets"
  }
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/routing/failover-and-retries"
    owner  = "provider"
    covers = "EU 5.172.39.10 (IP1), 5.172.39.25 (IP2); regional domain sip-eu.telnyx.com"
  }
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/network-configuration/srv-records"
    owner  = "provider"
    covers = "Europe sip-eu.telnyx.com resolves to 5.172.39.10, 5.172.39.25"
  }
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/network-configuration/ip-whitelisting"
    owner  = "provider"
    covers = "ports: SIP 5060 UDP/TCP, SIP TLS 5061, RTP 16384-32768 UDP"
  }
}

entry "telnyx-ca" {
  provider    = "Telnyx"
  region      = "Canada"
  family      = "telnyx"
  signaling   = ["192.76.120.31", "64.16.250.13", "193.108.220.10", "193.108.220.25"]
  media       = ["36.255.198.128/25", "50.114.136.128/25", "50.114.144.0/21", "64.16.226.0/24", "64.16.227.0/24", "64.16.228.0/24", "64.16.229.0/24", "64.16.230.0/24", "64.16.248.0/24", "64.16.249.0/24", "103.115.244.128/25", "185.246.41.128/25"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "16384-32768"
  dns         = ["sip.telnyx.ca", "sip-ca.telnyx.com"]
  verified    = "2026-12-05"
  notes       = "TELNYX'S PAGES DISAGREE: the SIP Info page and the help-center article list sip.telnyx.ca 192.76.120.31 and 64.16.250.13; the developer pages (failover, SRV records) list sip-ca.telnyx.com 193.108.220.10 and 193.108.220.25. Both pairs are kept until sip.telnyx.com settles it."
  source {
    url    = "https://sipdev.telnyx.com/"
    owner  = "provider"
    covers = "SIP Info page: Canada sip.telnyx.ca 192.76.120.31, 64.16.250.13"
  }
  source {
    url    = "https://support.telnyx.com/en/articles/1130687-whitelisting-telnyx-ip-addresses"
    owner  = "provider"
    seen   = "2025-03-25"
    covers = "Canada sip.telnyx.ca 192.76.120.31, 64.16.250.13; the twelve media subnets"
  }
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/routing/failover-and-retries"
    owner  = "provider"
    covers = "Canada 193.108.220.10 (IP1), 193.108.220.25 (IP2)"
  }
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/network-configuration/srv-records"
    owner  = "provider"
    covers = "Canada sip-ca.telnyx.com resolves to 193.108.220.10, 193.108.220.25"
  }
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/network-configuration/ip-whitelisting"
    owner  = "provider"
    covers = "ports: SIP 5060 UDP/TCP, SIP TLS 5061, RTP 16384-32768 UDP"
  }
}

entry "telnyx-au" {
  provider    = "Telnyx"
  region      = "Australia"
  family      = "telnyx"
  signaling   = ["103.115.244.145", "103.115.244.146", "103.135.104.10", "103.135.104.25", "193.108.104.10", "193.108.104.25"]
  media       = ["36.255.198.128/25", "50.114.136.128/25", "50.114.144.0/21", "64.16.226.0/24", "64.16.227.0/24", "64.16.228.0/24", "64.16.229.0/24", "64.16.230.0/24", "64.16.248.0/24", "64.16.249.0/24", "103.115.244.128/25", "185.246.41.128/25"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "16384-32768"
  dns         = ["sip.telnyx.com.au", "sip-au.telnyx.com"]
  verified    = "2026-12-05"
  notes       = "TELNYX'S PAGES DISAGREE (three pairs): the SIP Info page and the help-center article list sip.telnyx.com.au 103.115.244.145 and 103.115.244.146 (inside the media subnet 103.115.244.128/25); the failover page 103.135.104.10 and 103.135.104.25; the SRV records page sip-au.telnyx.com 193.108.104.10 and 193.108.104.25. All three are kept until sip.telnyx.com settles it."
  source {
    url    = "https://sipdev.telnyx.com/"
    owner  = "provider"
    covers = "SIP Info page: Australia sip.telnyx.com.au 103.115.244.145, 103.115.244.146"
  }
  source {
    url    = "https://support.telnyx.com/en/articles/1130687-whitelisting-telnyx-ip-addresses"
    owner  = "provider"
    seen   = "2025-03-25"
    covers = "Australia sip.telnyx.com.au 103.115.244.145, 103.115.244.146; the twelve media subnets"
  }
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/routing/failover-and-retries"
    owner  = "provider"
    covers = "Australia 103.135.104.10 (IP1), 103.135.104.25 (IP2)"
  }
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/network-configuration/srv-records"
    owner  = "provider"
    covers = "Australia sip-au.telnyx.com resolves to 193.108.104.10, 193.108.104.25"
  }
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/network-configuration/ip-whitelisting"
    owner  = "provider"
    covers = "ports: SIP 5060 UDP/TCP, SIP TLS 5061, RTP 16384-32768 UDP"
  }
}

entry "telnyx-asia" {
  provider    = "Telnyx"
  region      = "Asia (beta)"
  family      = "telnyx"
  signaling   = ["103.115.244.158", "103.115.244.159"]
  media       = ["36.255.198.128/25", "50.114.136.128/25", "50.114.144.0/21", "64.16.226.0/24", "64.16.227.0/24", "64.16.228.0/24", "64.16.229.0/24", "64.16.230.0/24", "64.16.248.0/24", "64.16.249.0/24", "103.115.244.128/25", "185.246.41.128/25"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "16384-32768"
  dns         = ["sip.telnyx.asia"]
  verified    = "2026-12-05"
  notes       = "A beta region: only the SIP Info page lists it (the help-center article and developer pages do not). Both addresses are inside the media subnet 103.115.244.128/25."
  source {
    url    = "https://sipdev.telnyx.com/"
    owner  = "provider"
    covers = "SIP Info page: Asia (Beta) sip.telnyx.asia 103.115.244.158, 103.115.244.159"
  }
  source {
    url    = "https://support.telnyx.com/en/articles/1130687-whitelisting-telnyx-ip-addresses"
    owner  = "provider"
    seen   = "2025-03-25"
    covers = "the twelve media subnets (global)"
  }
  source {
    url    = "https://developers.telnyx.com/docs/voice/sip-trunking/network-configuration/ip-whitelisting"
    owner  = "provider"
    covers = "ports: SIP 5060 UDP/TCP, SIP TLS 5061, RTP 16384-32768 UDP"
  }
}
