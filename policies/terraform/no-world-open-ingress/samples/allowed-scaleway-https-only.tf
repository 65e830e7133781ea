# An instance security group that drops by default: HTTPS from anywhere, SSH from the VPN only.
resource "scaleway_instance_security_group" "edge" {
  name                    = "gatehouse-prod-edge"
  zone                    = "fr-par-1"
  inbound_default_policy  = "drop"
  outbound_default_policy = "accept"
  stateful                = true

  inbound_rule {
    action   = "accept"
    protocol = "TCP"
    port     = 443
    ip_range = "0.0.0.0/0"
  }

  inbound_rule {
    action   = "accept"
    protocol = "TCP"
    port     = 443
    ip_range = "::/0"
  }

  inbound_rule {
    action   = "accept"
    protocol = "TCP"
    port     = 22
    ip_range = "198.51.100.0/24"
  }
}
