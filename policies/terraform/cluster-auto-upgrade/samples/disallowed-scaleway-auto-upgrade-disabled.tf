# Auto-upgrade switched off; the window is kept "for later".
resource "scaleway_k8s_cluster" "staging" {
  name                        = "gatehouse-staging"
  type                        = "kapsule"
  version                     = "1.31.2"
  cni                         = "cilium"
  region                      = "fr-par"
  private_network_id          = "fr-par/0c2c1f5e-7e0a-4b43-9a57-0d4bbd1a3a51"
  delete_additional_resources = true
  tags                        = ["environment=staging", "platform=gatehouse"]

  auto_upgrade {
    enable                        = false
    maintenance_window_start_hour = 3
    maintenance_window_day        = "any"
  }
}
