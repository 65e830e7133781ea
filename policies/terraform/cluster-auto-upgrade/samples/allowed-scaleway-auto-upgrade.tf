# Patch releases are applied on Sunday nights, from 03:00 UTC, node by node.
resource "scaleway_k8s_cluster" "production" {
  name                        = "gatehouse-prod"
  type                        = "kapsule-dedicated-8"
  version                     = "1.31"
  cni                         = "cilium"
  region                      = "fr-par"
  private_network_id          = var.private_network_id
  delete_additional_resources = false
  tags                        = ["environment=production", "platform=gatehouse"]

  auto_upgrade {
    enable                        = true
    maintenance_window_start_hour = var.maintenance_window_start_hour
    maintenance_window_day        = var.maintenance_window_day
  }
}

variable "private_network_id" {
  type    = string
  default = "fr-par/6ba7b810-9dad-11d1-80b4-00c04fd430c8"
}

variable "maintenance_window_start_hour" {
  type    = number
  default = 3
}

variable "maintenance_window_day" {
  type    = string
  default = "sunday"
}
