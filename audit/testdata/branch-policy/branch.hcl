# The policy the hand-kept branch FortiGate (good-fortigate.conf) implements.
target "fortigate" {
  wan = "wan"
  lan = "lan"
}

provider "trunk" {
  signaling  = ["198.51.100.16/29"]
  media      = ["198.51.100.64/26"]
  transports = ["udp"]
}

pbx "branch" {
  address   = "192.168.20.5"
  providers = ["trunk"]
}

rtp {
  ports = "10000-10999"
}

rate_limit {
  sip   = "10/second"
  burst = 20
}

log {
  dropped = true
}

expect "trunk reaches the pbx" {
  from    = "198.51.100.17"
  to      = "5060/udp"
  verdict = "accept"
}
