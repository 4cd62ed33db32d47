# RingCentral RingEX (formerly MVP: Message Video Phone). RingCentral does
# not publish separate signaling and media hosts: its network requirements
# page lists the IP supernets its cloud advertises over BGP and says they
# are the ones to use for "firewall rules for signaling and media ports".
# The entry therefore lists the same supernets as signaling and as media.
#
# Sources disagree on one supernet: the network requirements page lists
# nine supernets; RingCentral's QoS lab page (celab.ringcentral.com) defines
# its address list RC-ALLNETS with eight of them, without 66.81.240.0/20.
# The entry keeps all nine (a firewall must not lock the provider out).
#
# Ports are from the QoS lab page: SIP signaling TCP and UDP 5090-5099,
# audio RTP UDP 20000-64999. RingCentral gives a range of SIP ports, not one
# port (sip_ports), and names no TLS port; all connections are opened by the
# phone or app towards RingCentral.

entry "ringcentral" {
  provider    = "RingCentral RingEX"
  region      = "all (RingCentral's advertised IP supernets)"
  family      = "ringcentral"
  signaling   = ["66.81.240.0/20", "80.81.128.0/20", "103.44.68.0/22", "104.245.56.0/21", "185.23.248.0/22", "192.209.24.0/21", "199.68.212.0/22", "199.255.120.0/22", "208.87.40.0/22"]
  media       = ["66.81.240.0/20", "80.81.128.0/20", "103.44.68.0/22", "104.245.56.0/21", "185.23.248.0/22", "192.209.24.0/21", "199.68.212.0/22", "199.255.120.0/22", "208.87.40.0/22"]
  transports  = ["udp", "tcp"]
  sip_ports   = "5090-5099"
  media_ports = "20000-64999"
  verified    = "2026-12-05"
  notes       = "Signaling and media come from the same advertised supernets. SIP signaling is on TCP and UDP 5090-5099 (not 5060): a voice VLAN's phones may reach RingCentral's SIP on all ten ports. RingCentral names no TLS port. Phones and apps open every connection towards RingCentral. SOURCES DISAGREE: the QoS lab page's RC-ALLNETS omits 66.81.240.0/20, which the network requirements page lists; both are kept. Customers with CloudConnect (private connections) have additional requirements RingCentral gives on request."
  source {
    url    = "https://support.ringcentral.com/de/de/network-and-system-requirements/network-requirements/network-requirements-MVP.html"
    owner  = "provider"
    covers = "Table 2.1, the nine advertised IP supernets, to be used for firewall rules for signaling and media ports (German edition of the page; the partnersupport.ringcentral.com it/fr/pt editions list the same nine)"
  }
  source {
    url    = "https://www.celab.ringcentral.com/qos/RingCentralSignatures.html"
    owner  = "provider"
    covers = "address list RC-ALLNETS (eight supernets, without 66.81.240.0/20); audio RTP UDP 20000-64999 and UDP 8803; SIP/WebRTC signaling TCP and UDP 5090-5099, TCP 8083; connections are initiated from the customer endpoint; SIP ALG must be disabled"
  }
}
