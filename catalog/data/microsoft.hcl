# Microsoft Teams Phone Direct Routing (without media bypass: media comes from
# Microsoft's media processors). Microsoft retired the sip-all FQDNs in 2022
# and asks for the subnets in ACLs instead of single addresses.
#
# Sources disagree on the second subnet: the stored Direct Routing plan
# (MicrosoftDocs repository) lists 52.112.0.0/14 and 52.120.0.0/14; newer
# Microsoft pages (media bypass, Teams phones) list 52.112.0.0/14 and
# 52.122.0.0/15, which lies inside 52.120.0.0/14. The wider pair is kept;
# `voicewall providers update` replaces it with what Microsoft's 365
# endpoints web service says (with its version).

entry "microsoft-teams" {
  provider    = "Microsoft Teams Direct Routing"
  region      = "Microsoft 365, Office 365 and GCC"
  family      = "microsoft-teams"
  signaling   = ["52.112.0.0/14", "52.120.0.0/14"]
  media       = ["52.112.0.0/14", "52.120.0.0/14"]
  transports  = ["tls"]
  tls_port    = 5061
  media_ports = "49152-53247"
  dns         = ["sip.pstnhub.microsoft.com", "sip2.pstnhub.microsoft.com", "sip3.pstnhub.microsoft.com"]
  verified    = "2026-12-05"
  notes       = "TLS only: the SIP proxy sends from ports 1024-65535 to the port defined on the SBC; the SBC sends to 5061. Media processors use UDP 3478-3481 and 49152-53247. The FQDNs used to resolve to eight addresses in 52.114.0.0/16; Microsoft now asks for the subnets."
  source {
    url    = "https://learn.microsoft.com/en-us/microsoftteams/direct-routing-plan"
    owner  = "provider"
    covers = "FQDNs sip, sip2, sip3.pstnhub.microsoft.com; SIP/TLS 5061; media 52.112.0.0/14 and 52.120.0.0/14, UDP 3478-3481 and 49152-53247 (stored copy: MicrosoftDocs/OfficeDocs-SkypeForBusiness Teams/direct-routing-plan.md at 012c3c67)"
  }
  source {
    url    = "https://learn.microsoft.com/en-us/microsoftteams/direct-routing-plan-media-bypass"
    owner  = "provider"
    covers = "newer revision: transport relays and media processors in 52.112.0.0/14 and 52.122.0.0/15"
  }
}

entry "microsoft-teams-gcch" {
  provider    = "Microsoft Teams Direct Routing"
  region      = "Office 365 GCC High"
  family      = "microsoft-teams"
  signaling   = ["52.127.88.59", "52.127.92.64"]
  media       = ["52.127.88.0/21"]
  transports  = ["tls"]
  tls_port    = 5061
  media_ports = "49152-53247"
  dns         = ["sip.pstnhub.gov.teams.microsoft.us"]
  verified    = "2026-12-05"
  notes       = "US data centers only; port 5061 must be used on the SBC. Media processors also use UDP 3478-3481."
  source {
    url    = "https://learn.microsoft.com/en-us/microsoftteams/direct-routing-plan"
    owner  = "provider"
    covers = "GCC High FQDN, signaling 52.127.88.59 and 52.127.92.64, media 52.127.88.0/21 (stored copy at 012c3c67)"
  }
}

entry "microsoft-teams-dod" {
  provider    = "Microsoft Teams Direct Routing"
  region      = "Office 365 DoD"
  family      = "microsoft-teams"
  signaling   = ["52.127.64.33", "52.127.68.34"]
  media       = ["52.127.64.0/21"]
  transports  = ["tls"]
  tls_port    = 5061
  media_ports = "49152-53247"
  dns         = ["sip.pstnhub.dod.teams.microsoft.us"]
  verified    = "2026-12-05"
  notes       = "US data centers only; port 5061 must be used on the SBC. Media processors also use UDP 3478-3481."
  source {
    url    = "https://learn.microsoft.com/en-us/microsoftteams/direct-routing-plan"
    owner  = "provider"
    covers = "DoD FQDN, signaling 52.127.64.33 and 52.127.68.34, media 52.127.64.0/21 (stored copy at 012c3c67)"
  }
}
