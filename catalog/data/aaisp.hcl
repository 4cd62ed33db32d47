# Andrews & Arnold (AAISP) VoIP. The support wiki's "VoIP Firewall" page
# ("Firewall Requirements on the AAISP VoIP Platform") lists the same source
# addresses for SIP (UDP 5060) and for RTP (UDP 1024-65535): "On our platform
# the RTP will come from the same call server IP address as the SIP control
# messages". A&A asks customers to add all of them "even if you don't see
# traffic from or to them".
#
# The page gives the IPv4 call servers as the range 81.187.30.110 -
# 81.187.30.119; it is written here as the two CIDR blocks that cover exactly
# those ten addresses (81.187.30.110/31 and 81.187.30.112/29); a 2018
# revision of the page says the same ("In CIDR notation, the IPv4 range
# 81.187.30.110 - 81.187.30.119 needs two blocks").

entry "aaisp" {
  provider    = "Andrews & Arnold VoIP"
  region      = "all (AAISP VoIP platform)"
  family      = "aaisp"
  signaling   = ["81.187.30.110/31", "81.187.30.112/29", "90.155.3.0/24", "90.155.103.0/24", "2001:8b0:0:30::5060:0/112", "2001:8b0:5060::/48"]
  media       = ["81.187.30.110/31", "81.187.30.112/29", "90.155.3.0/24", "90.155.103.0/24", "2001:8b0:0:30::5060:0/112", "2001:8b0:5060::/48"]
  transports  = ["udp"]
  sip_port    = 5060
  media_ports = "1024-65535"
  verified    = "2026-12-05"
  notes       = "SIP on UDP 5060 and RTP on UDP 1024-65535 from the same call servers (RTP comes from the call server that sends the SIP). media_ports is the page's target port range for RTP (the phone's own RTP range can narrow it). A&A asks for all the listed addresses to be allowed, used or not, so its platform can grow. A&A recommends not leaving 5060 open to the whole Internet."
  source {
    url    = "https://support.aa.net.uk/index.php?oldid=15799&title=VoIP_Firewall"
    owner  = "provider"
    covers = "Firewall Requirements on the AAISP VoIP Platform: SIP (IPv4) UDP 5060 from 81.187.30.110 - 81.187.30.119, 90.155.3.0/24, 90.155.103.0/24; SIP (IPv6) UDP 5060 from 2001:8b0:0:30::5060:0/112, 2001:8b0:5060::/48; RTP UDP 1024-65535 from the same addresses; RTP comes from the same call server as the SIP"
  }
  source {
    url    = "https://support.aa.net.uk/index.php?title=VoIP_Firewall&stableid=12599"
    owner  = "provider"
    covers = "an earlier revision with the same table"
  }
}
