# The cluster joins the environment's Private Network, created by the network stack and passed in
# as a variable (its ID is in the stack's outputs).
variable "private_network_id" {
  description = "Private Network of the production environment (output of the network stack)."
  type        = string
  default     = "fr-par/6ba7b810-9dad-11d1-80b4-00c04fd430c8"
}

resource "scaleway_k8s_cluster" "production" {
  name                        = "gatehouse-prod"
  type                        = "kapsule-dedicated-8"
  version                     = "1.31"
  cni                         = "cilium"
  region                      = "fr-par"
  private_network_id          = var.private_network_id
  delete_additional_resources = false
  tags                        = ["environment=production", "platform=gatehouse"]
}
