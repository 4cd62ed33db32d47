# Protection every site gets: scanners blocked, SIP rate-limited, PBX
# management ports closed from the Internet, drops logged.
#
# A site may replace one of these only by listing it in its use block's
# override (see sites/branch-fortigate/site.hcl); redefining it silently
# is an error.

blocklist "scanners" {
  addresses = ["198.51.100.0/24"] # seen brute-forcing extensions at several sites
  file      = "blocklists/scanners.txt"
}

# Skinny (SCCP), the Asterisk manager and ARI/HTTP are never needed from
# the Internet.
close {
  ports = ["2000/tcp", "5038/tcp", "8088/tcp"]
}

# A trunk sends a handful of SIP packets a second; a scanner thousands.
rate_limit {
  sip   = "10/second"
  burst = 20
}

log {
  dropped = true
  prefix  = "voicewall"
  rate    = "10/minute"
}
