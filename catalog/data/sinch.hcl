# Sinch SIP trunking (Voice API SIP interface). Sinch is moving its SIP
# service to upgraded infrastructure region by region: "Regions upgraded
# currently: Europe, North America" in the newest copy of its SIP Trunking
# page read (an older copy says "Europe"), with "Upgraded infrastructure"
# sections for the new addresses. Those allowlist sections were not legible
# in the stored copies, so Europe and North America are NOT in this file:
# their pre-upgrade pairs (Europe 18.184.175.4, 18.196.245.254; North
# America 34.194.41.43, 34.197.97.9) no longer describe them, and their new
# ranges were not read.
#
# The regions below had not been upgraded in the newest copy read. Their
# ranges are the pre-upgrade ("legacy") pairs from Sinch's own
# documentation repository (github.com/sinch/docs, the SIP trunking page as
# last changed on 2021-03-17), the last copy whose allowlist table was
# legible; they could not be checked against the current page and will
# change when the region is upgraded. Prefer signaling_dns with the
# region's FQDN, and run `voicewall providers check`.
#
# `verified` is therefore the date of that copy, 2021-03-17, not the day
# it was read: nothing newer confirms these pairs, and `voicewall providers
# check` says so (an entry verified more than --max-age ago is drift).
#
# Media: Sinch "scales its media resources on demand and therefore has no
# fixed set of IP addresses where it sends media from"; media always comes
# from RTP ports 10000-20000. So media is accepted on flows the PBX opened
# (symmetric_rtp). Elastic SIP Trunking (EST, <trunk>.pstn.sinch.com) pages
# read publish no addresses.

entry "sinch-south-america" {
  provider      = "Sinch Voice SIP trunking"
  region        = "South America (sae1), pre-upgrade infrastructure"
  family        = "sinch"
  signaling     = ["52.67.242.103", "54.233.100.129"]
  transports    = ["udp", "tcp", "tls"]
  media_ports   = "10000-20000"
  dns           = ["sae1.sip.sinch.com", "sae1.vp.sip.sinch.com"]
  symmetric_rtp = true
  partial       = true
  verified      = "2021-03-17"
  notes         = "LEGACY pair from Sinch's 2021 documentation: not checked against the current page, and replaced when Sinch upgrades this region (Europe and North America already moved). Sinch asks that ALL its addresses be allowed (this catalog lacks the upgraded Europe and North America ranges) and that traffic to Sinch use the FQDN, failing over between the region's addresses. Media has no fixed source addresses (RTP ports 10000-20000): symmetric_rtp. Calls to Sinch over UDP or TCP; calls from Sinch over UDP (default), TCP or TLS. sae1.sip.sinch.com is the older page's FQDN, sae1.vp.sip.sinch.com the Voice API v2 page's."
  source {
    url    = "https://github.com/sinch/docs/blob/18f6c4602ec99730169a053195dd903304dd0bdd/docs/voice/voice-rest-api/voice-sip-trunking.md"
    owner  = "provider"
    seen   = "2021-03-17"
    covers = "IP whitelisting table: South America 52.67.242.103/32, 54.233.100.129/32; RTP ports 10000-20000 from no fixed addresses; UDP or TCP to Sinch; udp, tcp or tls from Sinch; FQDN sae1.sip.sinch.com"
  }
  source {
    url    = "https://developers.sinch.com/docs/voice-sip-trunking"
    owner  = "provider"
    covers = "infrastructure upgrade notice: 'Regions upgraded currently: Europe, North America'; regional FQDNs (its allowlist tables not legible in the stored copy)"
  }
  source {
    url    = "https://developers.sinch.com/docs/voice-2.0/api-reference/phone/inbound"
    owner  = "provider"
    covers = "SIP Inbound URI sae1.vp.sip.sinch.com; 'several IP addresses' per region; UDP and TCP"
  }
}

entry "sinch-southeast-asia" {
  provider      = "Sinch Voice SIP trunking"
  region        = "Southeast Asia (apse1), pre-upgrade infrastructure"
  family        = "sinch"
  signaling     = ["52.74.7.178", "54.251.177.8"]
  transports    = ["udp", "tcp", "tls"]
  media_ports   = "10000-20000"
  dns           = ["apse1.sip.sinch.com", "apse1.vp.sip.sinch.com"]
  symmetric_rtp = true
  partial       = true
  verified      = "2021-03-17"
  notes         = "LEGACY pair from Sinch's 2021 documentation: not checked against the current page, and replaced when Sinch upgrades this region (Europe and North America already moved). Sinch asks that ALL its addresses be allowed (this catalog lacks the upgraded Europe and North America ranges) and that traffic to Sinch use the FQDN, failing over between the region's addresses. Media has no fixed source addresses (RTP ports 10000-20000): symmetric_rtp. Calls to Sinch over UDP or TCP; calls from Sinch over UDP (default), TCP or TLS. apse1.sip.sinch.com is the older page's FQDN, apse1.vp.sip.sinch.com the Voice API v2 page's."
  source {
    url    = "https://github.com/sinch/docs/blob/18f6c4602ec99730169a053195dd903304dd0bdd/docs/voice/voice-rest-api/voice-sip-trunking.md"
    owner  = "provider"
    seen   = "2021-03-17"
    covers = "IP whitelisting table: Southeast Asia 52.74.7.178/32, 54.251.177.8/32; RTP ports 10000-20000 from no fixed addresses; UDP or TCP to Sinch; udp, tcp or tls from Sinch; FQDN apse1.sip.sinch.com"
  }
  source {
    url    = "https://developers.sinch.com/docs/voice-sip-trunking"
    owner  = "provider"
    covers = "infrastructure upgrade notice: 'Regions upgraded currently: Europe, North America'; regional FQDNs (its allowlist tables not legible in the stored copy)"
  }
  source {
    url    = "https://developers.sinch.com/docs/voice-2.0/api-reference/phone/inbound"
    owner  = "provider"
    covers = "SIP Inbound URI apse1.vp.sip.sinch.com; 'several IP addresses' per region; UDP and TCP"
  }
}

entry "sinch-australia" {
  provider      = "Sinch Voice SIP trunking"
  region        = "Australia (apse2), pre-upgrade infrastructure"
  family        = "sinch"
  signaling     = ["13.210.20.49", "13.210.220.180"]
  transports    = ["udp", "tcp", "tls"]
  media_ports   = "10000-20000"
  dns           = ["apse2.sip.sinch.com", "apse2.vp.sip.sinch.com"]
  symmetric_rtp = true
  partial       = true
  verified      = "2021-03-17"
  notes         = "LEGACY pair from Sinch's 2021 documentation: not checked against the current page, and replaced when Sinch upgrades this region (Europe and North America already moved). Sinch asks that ALL its addresses be allowed (this catalog lacks the upgraded Europe and North America ranges) and that traffic to Sinch use the FQDN, failing over between the region's addresses. Media has no fixed source addresses (RTP ports 10000-20000): symmetric_rtp. Calls to Sinch over UDP or TCP; calls from Sinch over UDP (default), TCP or TLS. apse2.sip.sinch.com is the older page's FQDN, apse2.vp.sip.sinch.com the Voice API v2 page's."
  source {
    url    = "https://github.com/sinch/docs/blob/18f6c4602ec99730169a053195dd903304dd0bdd/docs/voice/voice-rest-api/voice-sip-trunking.md"
    owner  = "provider"
    seen   = "2021-03-17"
    covers = "IP whitelisting table: Australia 13.210.20.49/32, 13.210.220.180/32; RTP ports 10000-20000 from no fixed addresses; UDP or TCP to Sinch; udp, tcp or tls from Sinch; FQDN apse2.sip.sinch.com"
  }
  source {
    url    = "https://developers.sinch.com/docs/voice-sip-trunking"
    owner  = "provider"
    covers = "infrastructure upgrade notice: 'Regions upgraded currently: Europe, North America'; regional FQDNs (its allowlist tables not legible in the stored copy)"
  }
  source {
    url    = "https://developers.sinch.com/docs/voice-2.0/api-reference/phone/inbound"
    owner  = "provider"
    covers = "SIP Inbound URI apse2.vp.sip.sinch.com; 'several IP addresses' per region; UDP and TCP"
  }
}
