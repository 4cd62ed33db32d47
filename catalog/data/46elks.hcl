# 46elks (Sweden), voice API and SIP. 46elks' "IP addresses" page lists two
# SIP server addresses (SIP and WebRTC clients connect to voip.46elks.com,
# whose address "may change") and, separately, its API and webhook servers,
# and adds: "SIP-connect action, as well as Websocket-numbers requires all IP
# addresses on this page to be unlocked!". Its "Connect to SIP trunk" page
# says to allow UDP on port 5060 for the SIP traffic 46elks sends to your
# server, from the addresses on the IP addresses page.
#
# Two entries therefore: 46elks for SIP clients and PBXs registering to
# 46elks (the SIP servers only), and 46elks-sip-connect for a SIP server that
# 46elks calls with the connect action (every address on the page, as
# 46elks asks). 46elks publishes no media addresses or port range, so both
# use symmetric_rtp.

entry "46elks" {
  provider      = "46elks"
  region        = "SIP servers (voip.46elks.com)"
  family        = "46elks"
  signaling     = ["176.10.154.205", "85.24.146.136"]
  transports    = ["udp"]
  sip_port      = 5060
  dns           = ["voip.46elks.com"]
  symmetric_rtp = true
  verified      = "2026-12-05"
  notes         = "SIP and WebRTC clients connect to voip.46elks.com; its address may change between the two SIP servers listed. 46elks publishes no media addresses or RTP port range, so media is accepted on flows the PBX opened (symmetric_rtp). 46elks says it informs customers by email when its addresses change."
  source {
    url    = "https://46elks.se/docs/ip-addresses"
    owner  = "provider"
    covers = "SIP server IP addresses 176.10.154.205 and 85.24.146.136; connect SIP or WebRTC clients to voip.46elks.com"
  }
  source {
    url    = "https://46elks.se/docs/voice-connect-sip"
    owner  = "provider"
    covers = "SIP traffic uses UDP port 5060"
  }
}

entry "46elks-sip-connect" {
  provider      = "46elks"
  region        = "SIP-connect action (46elks calls your SIP server)"
  family        = "46elks"
  signaling     = ["176.10.154.205", "85.24.146.136", "176.10.154.199", "85.24.146.132", "185.39.146.243", "2001:9b0:2:902::199"]
  transports    = ["udp"]
  sip_port      = 5060
  symmetric_rtp = true
  verified      = "2026-12-05"
  notes         = "For a SIP server that 46elks connects calls to (the connect action with a sip: URI; 46elks must whitelist that server first). 46elks asks that every address on its IP addresses page be allowed for SIP-connect: the two SIP servers and the API/webhook servers (three IPv4 addresses and one IPv6 address). UDP 5060. No media addresses or port range are published: symmetric_rtp."
  source {
    url    = "https://46elks.se/docs/ip-addresses"
    owner  = "provider"
    covers = "SIP servers 176.10.154.205, 85.24.146.136; API and webhook servers 176.10.154.199, 85.24.146.132, 185.39.146.243, 2001:9b0:2:902::199; SIP-connect requires all addresses on the page to be unlocked"
  }
  source {
    url    = "https://46elks.se/docs/voice-connect-sip"
    owner  = "provider"
    covers = "connect action to a SIP trunk; the SIP servers must be whitelisted by 46elks support; allow UDP on port 5060 for SIP from the addresses on the IP addresses page"
  }
}
