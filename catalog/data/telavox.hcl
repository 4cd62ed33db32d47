# Telavox (cloud telephony, Nordics). Telavox's "Firewall and network" FAQ
# asks for one outgoing rule, all UDP and TCP ports to "Telavox networks",
# with a timeout of at least 3720 s because its phones contact Telavox every
# 3600 s, no incoming rules (sessions start inside the network), and SIP ALG
# off "on the traffic to Telavox". Telavox says it does not recommend
# filtering its traffic by port or protocol and "chooses to trust all
# traffic to and from Telavox networks". The network is one /20; the phone
# provisioning and vendor redirect servers the page also lists are not part
# of this entry.
#
# In the English copy read, the network address did not render (only
# "Netmask: = 20" and "Hosts / Net: 4094" were legible); the Danish edition
# of the same article gives it: 80.83.208.0/20 (80.83.208.1-80.83.223.254).

entry "telavox" {
  provider   = "Telavox"
  region     = "all (Telavox network)"
  family     = "telavox"
  signaling  = ["80.83.208.0/20"]
  media      = ["80.83.208.0/20"]
  transports = ["udp", "tcp"]
  verified   = "2026-12-05"
  notes      = "One network for all Telavox voice traffic: allow all UDP and TCP ports to and from 80.83.208.0/20 (Telavox names no SIP or RTP port; voicewall's defaults apply). Phones register outbound every 3600 s: keep the UDP/TCP timeout at 3720 s or more, or ask Telavox for a 120 s registration interval. Disable SIP ALG and application control for Telavox traffic. The English page's network address was not legible in the copy read; the address is from the Danish edition of the same page."
  source {
    url    = "https://support.telavox.com/en_US/network/firewall-and-network"
    owner  = "provider"
    seen   = "2023-07-12"
    covers = "one outgoing rule for all UDP and TCP ports to Telavox networks (netmask /20, 4094 hosts); timeout at least 3720 s; no incoming rules; SIP ALG off; trust all traffic to and from Telavox networks"
  }
  source {
    url    = "https://support.telavox.com/da_DA/natverk/brandvagg-och-natverk"
    owner  = "provider"
    seen   = "2023-12-20"
    covers = "the same article in Danish: all UDP and TCP ports to the Telavox network 80.83.208.0/20 (80.83.208.1-80.83.223.254)"
  }
}
