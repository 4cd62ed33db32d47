# ThinkTel SIP Trunking (Canada). ThinkTel's help centre article "How SIP
# trunking works with ThinkTel" lists, per SIP proxy, the proxy's address
# (signaling, UDP 5060) and the "Authorized RTP IP Ranges by Proxy" (RTP,
# UDP 10000-65500). One entry per proxy as published: a trunk is bound to
# one proxy. ThinkTel recommends its Perimeta SBCs; the two legacy proxies
# are "still supported" and share the same two RTP ranges.
#
# The article also names ThinkTel's main switch in Edmonton (Metaswitch,
# 209.197.130.80) without saying it sends SIP or RTP to the customer; it is
# not listed as a signaling address here. A further section of the article
# ("SIP and RTP Configuration for OCS Proxies") was not legible in the copy
# read; its proxies are not in this catalog.

entry "thinktel-toronto" {
  provider    = "ThinkTel SIP Trunking"
  region      = "Toronto Perimeta SBC (tor-isc-ws1.sbc.tprm.ca)"
  family      = "thinktel"
  signaling   = ["69.171.129.12"]
  media       = ["69.171.129.0/28"]
  transports  = ["udp"]
  sip_port    = 5060
  media_ports = "10000-65500"
  dns         = ["tor-isc-ws1.sbc.tprm.ca"]
  verified    = "2026-12-05"
  notes       = "Recommended SBC. SIP on UDP 5060 from 69.171.129.12; RTP on UDP 10000-65500 from 69.171.129.0/28. A new binding on this SBC needs the customer's address whitelisted by ThinkTel's Technical Services Team."
  source {
    url    = "https://helpcentre.thinktel.ca/how-sip-trunking-works-with-thinktel"
    owner  = "provider"
    covers = "Toronto Perimeta SBC tor-isc-ws1.sbc.tprm.ca, 69.171.129.12, port 5060 (UDP 5060 for SIP signaling); authorized RTP range 69.171.129.0/28; RTP on UDP 10000-65500"
  }
}

entry "thinktel-edmonton" {
  provider    = "ThinkTel SIP Trunking"
  region      = "Edmonton Perimeta SBC (edm-isc-ws1.sbc.tprm.ca)"
  family      = "thinktel"
  signaling   = ["66.49.241.12"]
  media       = ["66.49.241.0/28"]
  transports  = ["udp"]
  sip_port    = 5060
  media_ports = "10000-65500"
  dns         = ["edm-isc-ws1.sbc.tprm.ca"]
  verified    = "2026-12-05"
  notes       = "Recommended SBC. SIP on UDP 5060 from 66.49.241.12; RTP on UDP 10000-65500 from 66.49.241.0/28. A new binding on this SBC needs the customer's address whitelisted by ThinkTel's Technical Services Team."
  source {
    url    = "https://helpcentre.thinktel.ca/how-sip-trunking-works-with-thinktel"
    owner  = "provider"
    covers = "Edmonton Perimeta SBC edm-isc-ws1.sbc.tprm.ca, 66.49.241.12, port 5060 (UDP 5060 for SIP signaling); authorized RTP range 66.49.241.0/28; RTP on UDP 10000-65500"
  }
}

entry "thinktel-legacy-east" {
  provider    = "ThinkTel SIP Trunking"
  region      = "Eastern Canada legacy proxy (tor.trk.tprm.ca)"
  family      = "thinktel"
  signaling   = ["206.80.250.100"]
  media       = ["208.68.17.32/27", "206.80.250.96/27"]
  transports  = ["udp"]
  sip_port    = 5060
  media_ports = "10000-65500"
  dns         = ["tor.trk.tprm.ca"]
  verified    = "2026-12-05"
  notes       = "Legacy proxy (still supported), primarily for Eastern Canada PBX trunks; supports NAT and public-IP configurations. SIP on UDP 5060 from 206.80.250.100; RTP on UDP 10000-65500 from 208.68.17.32/27 and 206.80.250.96/27 (the same two ranges as the Western legacy proxy)."
  source {
    url    = "https://helpcentre.thinktel.ca/how-sip-trunking-works-with-thinktel"
    owner  = "provider"
    covers = "Eastern Canada traditional proxy tor.trk.tprm.ca, 206.80.250.100 (UDP 5060 for SIP signaling); authorized RTP ranges 208.68.17.32/27 and 206.80.250.96/27; RTP on UDP 10000-65500"
  }
}

entry "thinktel-legacy-west" {
  provider    = "ThinkTel SIP Trunking"
  region      = "Western Canada legacy proxy (edm.trk.tprm.ca)"
  family      = "thinktel"
  signaling   = ["208.68.17.52"]
  media       = ["208.68.17.32/27", "206.80.250.96/27"]
  transports  = ["udp"]
  sip_port    = 5060
  media_ports = "10000-65500"
  dns         = ["edm.trk.tprm.ca"]
  verified    = "2026-12-05"
  notes       = "Legacy proxy (still supported), primarily for Western Canada PBX trunks; supports NAT and public-IP configurations. SIP on UDP 5060 from 208.68.17.52; RTP on UDP 10000-65500 from 208.68.17.32/27 and 206.80.250.96/27 (the same two ranges as the Eastern legacy proxy)."
  source {
    url    = "https://helpcentre.thinktel.ca/how-sip-trunking-works-with-thinktel"
    owner  = "provider"
    covers = "Western Canada traditional proxy edm.trk.tprm.ca, 208.68.17.52 (UDP 5060 for SIP signaling); authorized RTP ranges 208.68.17.32/27 and 206.80.250.96/27; RTP on UDP 10000-65500"
  }
}
