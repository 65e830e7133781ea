# A cluster on no Private Network.
resource "scaleway_k8s_cluster" "production" {
  name                        = "gatehouse-prod"
  type                        = "kapsule-dedicated-8"
  version                     = "1.31"
  cni                         = "cilium"
  region                      = "fr-par"
  delete_additional_resources = false
  tags                        = ["environment=production", "platform=gatehouse"]
}
