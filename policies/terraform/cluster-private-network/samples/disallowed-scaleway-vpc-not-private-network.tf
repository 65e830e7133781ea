# A classic mix-up: the VPC's ID where the Private Network's is expected. The value is known only
# after apply and leads to no scaleway_vpc_private_network.
resource "scaleway_vpc" "production" {
  name           = "gatehouse-prod"
  region         = "fr-par"
  enable_routing = true
}

resource "scaleway_k8s_cluster" "production" {
  name                        = "gatehouse-prod"
  type                        = "kapsule-dedicated-8"
  version                     = "1.31"
  cni                         = "cilium"
  region                      = "fr-par"
  private_network_id          = scaleway_vpc.production.id
  delete_additional_resources = false
  tags                        = ["environment=production", "platform=gatehouse"]
}
