# The provider's default inbound policy (accept) and a rule without ip_range (any address).
resource "scaleway_instance_security_group" "edge" {
  name = "gatehouse-prod-edge"
  zone = "fr-par-1"

  inbound_rule {
    action = "accept"
    port   = 22
  }
}
