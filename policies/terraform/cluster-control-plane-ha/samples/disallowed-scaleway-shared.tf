# A production cluster left on the shared control plane (no type: "kapsule").
resource "scaleway_k8s_cluster" "production" {
  name                        = "gatehouse-prod"
  version                     = "1.31"
  cni                         = "cilium"
  region                      = "fr-par"
  private_network_id          = var.private_network_id
  delete_additional_resources = false
  tags                        = ["environment=production", "platform=gatehouse"]
}

variable "private_network_id" {
  type    = string
  default = "fr-par/6ba7b810-9dad-11d1-80b4-00c04fd430c8"
}
