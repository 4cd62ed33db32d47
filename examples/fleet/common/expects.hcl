# Policy tests every site must pass (`voicewall test sites/<name>`).

expect "blocklisted scanner is dropped" {
  from    = "185.53.88.7"
  to      = "5061/tcp"
  verdict = "drop"
}

expect "asterisk manager is closed" {
  from    = "203.0.113.10"
  to      = "5038/tcp"
  verdict = "drop"
}
