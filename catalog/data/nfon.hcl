# NFON (Cloudya cloud telephone system). NFON's "Router / firewall settings"
# page (Technical requirements for Cloudya) gives one network for all voice
# traffic: UDP, all ports, "SIP, RTP, T-38, FMC, etc." and TCP, all ports,
# "SIP/TLS, SIP, FMC", both to 109.68.96.0/21, for the devices' "outbound
# communication" with the telephone system. NFON explicitly advises against
# DNS/FQDN-based filter rules.
#
# NFON names no SIP or TLS port (the rule is "all ports"), so sip_port and
# tls_port are unset (voicewall's defaults, 5060 and 5061, apply) and no
# media port range is given. NFON's English "Firewall Configurations"
# leaflet (Plug & Play) has the same table; so do its German and Italian
# editions.

entry "nfon" {
  provider   = "NFON Cloudya"
  region     = "all (one network)"
  family     = "nfon"
  signaling  = ["109.68.96.0/21"]
  media      = ["109.68.96.0/21"]
  transports = ["udp", "tcp", "tls"]
  verified   = "2026-12-05"
  notes      = "SIP, RTP, T.38 and FMC over UDP, and SIP, SIP/TLS and FMC over TCP, all to/from 109.68.96.0/21 on all ports (NFON names no specific SIP, TLS or RTP port, so voicewall's defaults apply: SIP 5060, TLS 5061; a voice VLAN's phones may send any UDP to the range, as media, but TCP only to those two ports unless allow_out adds the ports your devices use). End devices communicate outbound to NFON. Provisioning (TCP 80, 83, 443, 18443) goes to all networks and is not part of this entry. NFON advises against FQDN-based filter rules; *.cloudya.com and *.cloud-cfg.com are only given as proxy exceptions. Disable SIP ALG; UDP NAT timeout 120-130 s."
  source {
    url    = "https://www.nfon.com/en/systemspecifictopics/technical-requirements-for-cloudya/b-router-/-firewall-settings"
    owner  = "provider"
    covers = "ports table: UDP all ports SIP, RTP, T-38, FMC to 109.68.96.0/21; TCP all ports SIP/TLS, SIP, FMC to 109.68.96.0/21; no FQDN-based rules; SIP ALG off"
  }
  source {
    url    = "https://www.nfon.com/en/service/documentation/leaflets/systemspecifictopics/leaflet-plug-play/b-firewall-configurations"
    owner  = "provider"
    covers = "Plug & Play leaflet, B. Firewall Configurations: the same ports table (UDP all ports SIP, RTP, T-38, FMC and TCP all ports SIP/TLS, SIP, FMC to 109.68.96.0/21) and the proxy exceptions *.cloud-cfg.com, *.cloudya.com, 109.68.96.0/21"
  }
}
