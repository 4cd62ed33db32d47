# Amazon Chime SDK Voice Connector (SIP trunking). AWS's "Network
# configuration and bandwidth requirements" page lists, per AWS Region, one
# IPv4 and one IPv6 subnet for SIP signaling (UDP/5060, TCP/5060, TLS/5061)
# and the SAME subnet for media (UDP/5000:65000), plus a "Global" IPv6 row,
# 2600:f0f0:c040::/42, that covers every Region's /48, and an "Amazon Voice
# Focus for carriers" media subnet for US East and US West (kept in those
# two entries' media). One entry per Region
# as published: a Voice Connector lives in one Region.
#
# IPv6 applies to Voice Connectors created with network type DUAL_STACK;
# existing Voice Connectors are IPV4_ONLY (AWS's "Creating an Amazon Chime
# SDK Voice Connector" page).
#
# An earlier, archived copy of the same page (the awsdocs GitHub repository
# of the Amazon Chime Administration Guide) listed four more US East media
# ranges on UDP/1024:65535 (52.55.62.128/25, 52.55.63.0/25, 34.212.95.128/25,
# 34.223.21.0/25) and TCP/5061 where the current page says TLS/5061. The
# current page no longer lists them; they are not kept here.

entry "chime-vc-us-east-1" {
  provider    = "Amazon Chime SDK Voice Connector"
  region      = "US East (N. Virginia), us-east-1"
  family      = "aws-chime-voice-connector"
  signaling   = ["3.80.16.0/23", "2600:f0f0:c040::/48"]
  media       = ["3.80.16.0/23", "2600:f0f0:c040::/48", "99.77.254.0/24"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "5000-65000"
  verified    = "2026-12-05"
  notes       = "Media also from 99.77.254.0/24, the page's Amazon Voice Focus for carriers media destination in this Region (UDP/5000:65000). AWS publishes one subnet per Region for both signaling and media. The IPv6 subnet is used by DUAL_STACK Voice Connectors only; AWS's Global IPv6 row 2600:f0f0:c040::/42 covers every Region's /48. Encryption (if enabled on the Voice Connector) means TLS signaling and SRTP media."
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/network-config.html"
    owner  = "provider"
    covers = "US East (N. Virginia): SIP signaling 3.80.16.0/23 and 2600:f0f0:c040::/48 on UDP/5060, TCP/5060, TLS/5061; media the same subnets on UDP/5000:65000; Amazon Voice Focus for carriers media 99.77.254.0/24 on UDP/5000:65000"
  }
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/create-voicecon.html"
    owner  = "provider"
    covers = "network type DUAL_STACK (IPv4/IPv6) only for new Voice Connectors, existing ones IPV4_ONLY; encryption means TLS signaling and SRTP media"
  }
}

entry "chime-vc-us-west-2" {
  provider    = "Amazon Chime SDK Voice Connector"
  region      = "US West (Oregon), us-west-2"
  family      = "aws-chime-voice-connector"
  signaling   = ["99.77.253.0/24", "2600:f0f0:c041::/48"]
  media       = ["99.77.253.0/24", "2600:f0f0:c041::/48", "99.77.232.0/24"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "5000-65000"
  verified    = "2026-12-05"
  notes       = "Media also from 99.77.232.0/24, the page's Amazon Voice Focus for carriers media destination in this Region (UDP/5000:65000). AWS publishes one subnet per Region for both signaling and media. The IPv6 subnet is used by DUAL_STACK Voice Connectors only; AWS's Global IPv6 row 2600:f0f0:c040::/42 covers every Region's /48. Encryption (if enabled on the Voice Connector) means TLS signaling and SRTP media."
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/network-config.html"
    owner  = "provider"
    covers = "US West (Oregon): SIP signaling 99.77.253.0/24 and 2600:f0f0:c041::/48 on UDP/5060, TCP/5060, TLS/5061; media the same subnets on UDP/5000:65000; Amazon Voice Focus for carriers media 99.77.232.0/24 on UDP/5000:65000"
  }
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/create-voicecon.html"
    owner  = "provider"
    covers = "network type DUAL_STACK (IPv4/IPv6) only for new Voice Connectors, existing ones IPV4_ONLY; encryption means TLS signaling and SRTP media"
  }
}

entry "chime-vc-ap-northeast-2" {
  provider    = "Amazon Chime SDK Voice Connector"
  region      = "Asia Pacific (Seoul), ap-northeast-2"
  family      = "aws-chime-voice-connector"
  signaling   = ["99.77.242.0/24", "2600:f0f0:c046::/48"]
  media       = ["99.77.242.0/24", "2600:f0f0:c046::/48"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "5000-65000"
  verified    = "2026-12-05"
  notes       = "AWS publishes one subnet per Region for both signaling and media. The IPv6 subnet is used by DUAL_STACK Voice Connectors only; AWS's Global IPv6 row 2600:f0f0:c040::/42 covers every Region's /48. Encryption (if enabled on the Voice Connector) means TLS signaling and SRTP media."
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/network-config.html"
    owner  = "provider"
    covers = "Asia Pacific (Seoul): SIP signaling 99.77.242.0/24 and 2600:f0f0:c046::/48 on UDP/5060, TCP/5060, TLS/5061; media the same subnets on UDP/5000:65000"
  }
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/create-voicecon.html"
    owner  = "provider"
    covers = "network type DUAL_STACK (IPv4/IPv6) only for new Voice Connectors, existing ones IPV4_ONLY; encryption means TLS signaling and SRTP media"
  }
}

entry "chime-vc-ap-southeast-1" {
  provider    = "Amazon Chime SDK Voice Connector"
  region      = "Asia Pacific (Singapore), ap-southeast-1"
  family      = "aws-chime-voice-connector"
  signaling   = ["99.77.240.0/24", "2600:f0f0:c048::/48"]
  media       = ["99.77.240.0/24", "2600:f0f0:c048::/48"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "5000-65000"
  verified    = "2026-12-05"
  notes       = "AWS publishes one subnet per Region for both signaling and media. The IPv6 subnet is used by DUAL_STACK Voice Connectors only; AWS's Global IPv6 row 2600:f0f0:c040::/42 covers every Region's /48. Encryption (if enabled on the Voice Connector) means TLS signaling and SRTP media."
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/network-config.html"
    owner  = "provider"
    covers = "Asia Pacific (Singapore): SIP signaling 99.77.240.0/24 and 2600:f0f0:c048::/48 on UDP/5060, TCP/5060, TLS/5061; media the same subnets on UDP/5000:65000"
  }
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/create-voicecon.html"
    owner  = "provider"
    covers = "network type DUAL_STACK (IPv4/IPv6) only for new Voice Connectors, existing ones IPV4_ONLY; encryption means TLS signaling and SRTP media"
  }
}

entry "chime-vc-ap-southeast-2" {
  provider    = "Amazon Chime SDK Voice Connector"
  region      = "Asia Pacific (Sydney), ap-southeast-2"
  family      = "aws-chime-voice-connector"
  signaling   = ["99.77.239.0/24", "2600:f0f0:c049::/48"]
  media       = ["99.77.239.0/24", "2600:f0f0:c049::/48"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "5000-65000"
  verified    = "2026-12-05"
  notes       = "AWS publishes one subnet per Region for both signaling and media. The IPv6 subnet is used by DUAL_STACK Voice Connectors only; AWS's Global IPv6 row 2600:f0f0:c040::/42 covers every Region's /48. Encryption (if enabled on the Voice Connector) means TLS signaling and SRTP media."
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/network-config.html"
    owner  = "provider"
    covers = "Asia Pacific (Sydney): SIP signaling 99.77.239.0/24 and 2600:f0f0:c049::/48 on UDP/5060, TCP/5060, TLS/5061; media the same subnets on UDP/5000:65000"
  }
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/create-voicecon.html"
    owner  = "provider"
    covers = "network type DUAL_STACK (IPv4/IPv6) only for new Voice Connectors, existing ones IPV4_ONLY; encryption means TLS signaling and SRTP media"
  }
}

entry "chime-vc-ap-northeast-1" {
  provider    = "Amazon Chime SDK Voice Connector"
  region      = "Asia Pacific (Tokyo), ap-northeast-1"
  family      = "aws-chime-voice-connector"
  signaling   = ["99.77.244.0/24", "2600:f0f0:c047::/48"]
  media       = ["99.77.244.0/24", "2600:f0f0:c047::/48"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "5000-65000"
  verified    = "2026-12-05"
  notes       = "AWS publishes one subnet per Region for both signaling and media. The IPv6 subnet is used by DUAL_STACK Voice Connectors only; AWS's Global IPv6 row 2600:f0f0:c040::/42 covers every Region's /48. Encryption (if enabled on the Voice Connector) means TLS signaling and SRTP media."
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/network-config.html"
    owner  = "provider"
    covers = "Asia Pacific (Tokyo): SIP signaling 99.77.244.0/24 and 2600:f0f0:c047::/48 on UDP/5060, TCP/5060, TLS/5061; media the same subnets on UDP/5000:65000"
  }
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/create-voicecon.html"
    owner  = "provider"
    covers = "network type DUAL_STACK (IPv4/IPv6) only for new Voice Connectors, existing ones IPV4_ONLY; encryption means TLS signaling and SRTP media"
  }
}

entry "chime-vc-ca-central-1" {
  provider    = "Amazon Chime SDK Voice Connector"
  region      = "Canada (Central), ca-central-1"
  family      = "aws-chime-voice-connector"
  signaling   = ["99.77.233.0/24", "2600:f0f0:c042::/48"]
  media       = ["99.77.233.0/24", "2600:f0f0:c042::/48"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "5000-65000"
  verified    = "2026-12-05"
  notes       = "AWS publishes one subnet per Region for both signaling and media. The IPv6 subnet is used by DUAL_STACK Voice Connectors only; AWS's Global IPv6 row 2600:f0f0:c040::/42 covers every Region's /48. Encryption (if enabled on the Voice Connector) means TLS signaling and SRTP media."
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/network-config.html"
    owner  = "provider"
    covers = "Canada (Central): SIP signaling 99.77.233.0/24 and 2600:f0f0:c042::/48 on UDP/5060, TCP/5060, TLS/5061; media the same subnets on UDP/5000:65000"
  }
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/create-voicecon.html"
    owner  = "provider"
    covers = "network type DUAL_STACK (IPv4/IPv6) only for new Voice Connectors, existing ones IPV4_ONLY; encryption means TLS signaling and SRTP media"
  }
}

entry "chime-vc-eu-central-1" {
  provider    = "Amazon Chime SDK Voice Connector"
  region      = "Europe (Frankfurt), eu-central-1"
  family      = "aws-chime-voice-connector"
  signaling   = ["99.77.247.0/24", "2600:f0f0:c044::/48"]
  media       = ["99.77.247.0/24", "2600:f0f0:c044::/48"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "5000-65000"
  verified    = "2026-12-05"
  notes       = "AWS publishes one subnet per Region for both signaling and media. The IPv6 subnet is used by DUAL_STACK Voice Connectors only; AWS's Global IPv6 row 2600:f0f0:c040::/42 covers every Region's /48. Encryption (if enabled on the Voice Connector) means TLS signaling and SRTP media."
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/network-config.html"
    owner  = "provider"
    covers = "Europe (Frankfurt): SIP signaling 99.77.247.0/24 and 2600:f0f0:c044::/48 on UDP/5060, TCP/5060, TLS/5061; media the same subnets on UDP/5000:65000"
  }
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/create-voicecon.html"
    owner  = "provider"
    covers = "network type DUAL_STACK (IPv4/IPv6) only for new Voice Connectors, existing ones IPV4_ONLY; encryption means TLS signaling and SRTP media"
  }
}

entry "chime-vc-eu-west-1" {
  provider    = "Amazon Chime SDK Voice Connector"
  region      = "Europe (Ireland), eu-west-1"
  family      = "aws-chime-voice-connector"
  signaling   = ["99.77.250.0/24", "2600:f0f0:c043::/48"]
  media       = ["99.77.250.0/24", "2600:f0f0:c043::/48"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "5000-65000"
  verified    = "2026-12-05"
  notes       = "AWS publishes one subnet per Region for both signaling and media. The IPv6 subnet is used by DUAL_STACK Voice Connectors only; AWS's Global IPv6 row 2600:f0f0:c040::/42 covers every Region's /48. Encryption (if enabled on the Voice Connector) means TLS signaling and SRTP media."
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/network-config.html"
    owner  = "provider"
    covers = "Europe (Ireland): SIP signaling 99.77.250.0/24 and 2600:f0f0:c043::/48 on UDP/5060, TCP/5060, TLS/5061; media the same subnets on UDP/5000:65000"
  }
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/create-voicecon.html"
    owner  = "provider"
    covers = "network type DUAL_STACK (IPv4/IPv6) only for new Voice Connectors, existing ones IPV4_ONLY; encryption means TLS signaling and SRTP media"
  }
}

entry "chime-vc-eu-west-2" {
  provider    = "Amazon Chime SDK Voice Connector"
  region      = "Europe (London), eu-west-2"
  family      = "aws-chime-voice-connector"
  signaling   = ["99.77.249.0/24", "2600:f0f0:c045::/48"]
  media       = ["99.77.249.0/24", "2600:f0f0:c045::/48"]
  transports  = ["udp", "tcp", "tls"]
  sip_port    = 5060
  tls_port    = 5061
  media_ports = "5000-65000"
  verified    = "2026-12-05"
  notes       = "AWS publishes one subnet per Region for both signaling and media. The IPv6 subnet is used by DUAL_STACK Voice Connectors only; AWS's Global IPv6 row 2600:f0f0:c040::/42 covers every Region's /48. Encryption (if enabled on the Voice Connector) means TLS signaling and SRTP media."
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/network-config.html"
    owner  = "provider"
    covers = "Europe (London): SIP signaling 99.77.249.0/24 and 2600:f0f0:c045::/48 on UDP/5060, TCP/5060, TLS/5061; media the same subnets on UDP/5000:65000"
  }
  source {
    url    = "https://docs.aws.amazon.com/chime-sdk/latest/ag/create-voicecon.html"
    owner  = "provider"
    covers = "network type DUAL_STACK (IPv4/IPv6) only for new Voice Connectors, existing ones IPV4_ONLY; encryption means TLS signaling and SRTP media"
  }
}
