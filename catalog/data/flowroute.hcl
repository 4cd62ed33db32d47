# Flowroute. Flowroute sends inbound calls from the edge ("PoP") chosen per
# inbound route and falls back to other PoPs when it must. Its API reference
# ("List Edge Strategies", developer.flowroute.com) gives, per PoP, the
# firewall range to allow and the PoP's NAPTR name; in the stored copy only
# the first PoP of that list, US-East-VA, was legible (the next, Oregon, is
# cut off). Only that PoP is here. The other PoPs' ranges (US-West-OR and
# newer ones outside the US) were not read from Flowroute's own pages.
#
# Media: Flowroute's "Direct Audio" firewall article says to allow RTP from
# any source address to the PBX's own RTP port range, so media is accepted
# on flows the PBX opened (symmetric_rtp). The same article lists the SIP
# signaling addresses, but they are not legible in the stored copy.

entry "flowroute-us-east-va" {
  provider      = "Flowroute"
  region        = "US-East-VA (North Virginia PoP)"
  family        = "flowroute"
  signaling     = ["34.226.36.32/28"]
  transports    = ["udp", "tcp"]
  sip_port      = 5060
  dns           = ["us-east-va.sip.flowroute.com"]
  symmetric_rtp = true
  partial       = true
  verified      = "2026-12-05"
  notes         = "Only the US-East-VA PoP: Flowroute says it falls back to other regions if necessary, and their ranges are not in this catalog, so a policy pinned to this entry can lose calls during a failover. Media comes from any address (Direct Audio): use symmetric_rtp. SIP on 5060 UDP/TCP; Flowroute names 5160 as an alternate SIP port. The range is as the API reference's example response for GET /routes/edge_strategies gives it (firewall_rules \"34.226.36.32/28, 34.226.36.32-34.226.36.47\")."
  source {
    url    = "https://developer.flowroute.com/api/numbers/v2.0/list-edge-strategies/"
    owner  = "provider"
    covers = "US-East-VA: firewall_rules 34.226.36.32/28 (34.226.36.32-34.226.36.47), NAPTR us-east-va.sip.flowroute.com; 'We will fall back to other regions if necessary'"
  }
  source {
    url    = "https://support.flowroute.com/customer/portal/articles/1852958-set-firewall-policies-for-flowroute-s-direct-audio"
    owner  = "provider"
    covers = "SIP signaling UDP and TCP on 5060 (5160 alternate); RTP from any source address to the PBX's own RTP port range (its signaling address list is not legible in the stored copy)"
  }
}
