# Pinned to a patch version, upgraded by hand.
resource "scaleway_k8s_cluster" "production" {
  name                        = "gatehouse-prod"
  type                        = "kapsule-dedicated-8"
  version                     = "1.31.2"
  cni                         = "cilium"
  region                      = "fr-par"
  private_network_id          = "fr-par/6ba7b810-9dad-11d1-80b4-00c04fd430c8"
  delete_additional_resources = false
  tags                        = ["environment=production", "platform=gatehouse"]
}
