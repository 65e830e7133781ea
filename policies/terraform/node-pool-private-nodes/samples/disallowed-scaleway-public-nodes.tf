resource "scaleway_k8s_pool" "application" {
  cluster_id  = "fr-par/0c2c1f5e-7e0a-4b43-9a57-0d4bbd1a3a51"
  name        = "application"
  node_type   = "POP2-4C-16G"
  size        = 3
  min_size    = 3
  max_size    = 12
  autoscaling = true
  autohealing = true
}
