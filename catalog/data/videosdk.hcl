# VideoSDK telephony (SIP). Media is published only as a DNS name
# (media.videosdk.live), so RTP is accepted on flows opened from inside.

entry "videosdk" {
  provider      = "VideoSDK"
  region        = "IN1 (India) and US2 (USA)"
  family        = "videosdk"
  signaling     = ["13.200.63.163", "34.186.123.99"]
  transports    = ["udp", "tcp", "tls"]
  sip_port      = 5060
  tls_port      = 5061
  dns           = ["sip.videosdk.live", "in1.sip.videosdk.live", "us2.sip.videosdk.live"]
  symmetric_rtp = true
  verified      = "2026-12-05"
  notes         = "Media from addresses behind media.videosdk.live, not published as ranges: use symmetric_rtp."
  source {
    url    = "https://docs.videosdk.live/telephony/managing-calls/ip-whitelisting"
    owner  = "provider"
    covers = "signaling 13.200.63.163 (in1), 34.186.123.99 (us2); 5060 TCP/UDP, 5061 TLS; media only as media.videosdk.live"
  }
}
