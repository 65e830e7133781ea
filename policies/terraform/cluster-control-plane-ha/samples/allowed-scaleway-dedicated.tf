# The production cluster: dedicated control plane, on the environment's private network.
resource "scaleway_vpc_private_network" "production" {
  name   = "gatehouse-prod"
  region = "fr-par"
  tags   = ["environment=production"]
}

resource "scaleway_k8s_cluster" "production" {
  name                        = "gatehouse-prod"
  type                        = "kapsule-dedicated-8"
  version                     = "1.31"
  cni                         = "cilium"
  region                      = "fr-par"
  private_network_id          = scaleway_vpc_private_network.production.id
  delete_additional_resources = false
  tags                        = ["environment=production", "platform=gatehouse"]

  auto_upgrade {
    enable                        = true
    maintenance_window_start_hour = 3
    maintenance_window_day        = "sunday"
  }
}

# Staging may share a control plane: it is not production.
resource "scaleway_k8s_cluster" "staging" {
  name                        = "gatehouse-staging"
  type                        = "kapsule"
  version                     = "1.31"
  cni                         = "cilium"
  region                      = "fr-par"
  delete_additional_resources = true
  tags                        = ["environment=staging", "platform=gatehouse"]
}
