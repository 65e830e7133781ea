# Autoscaled down to one node at night: the default min_size.
resource "scaleway_k8s_pool" "application" {
  cluster_id  = "fr-par/0c2c1f5e-7e0a-4b43-9a57-0d4bbd1a3a51"
  name        = "application"
  node_type   = "POP2-4C-16G"
  size        = 2
  max_size    = 6
  autoscaling = true
  autohealing = true
}

# A fixed pool of one node.
resource "scaleway_k8s_pool" "tools" {
  cluster_id = "fr-par/0c2c1f5e-7e0a-4b43-9a57-0d4bbd1a3a51"
  name       = "tools"
  node_type  = "DEV1-M"
  size       = 1
}
