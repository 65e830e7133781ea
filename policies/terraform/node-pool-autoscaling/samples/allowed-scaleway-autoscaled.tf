resource "scaleway_k8s_pool" "application" {
  cluster_id          = var.cluster_id
  name                = "application"
  node_type           = var.node_type
  size                = var.min_nodes
  min_size            = var.min_nodes
  max_size            = var.max_nodes
  autoscaling         = true
  autohealing         = true
  public_ip_disabled  = true
  wait_for_pool_ready = true

  upgrade_policy {
    max_surge       = 1
    max_unavailable = 0
  }

  lifecycle {
    ignore_changes = [size]
  }
}

variable "cluster_id" {
  type    = string
  default = "fr-par/0c2c1f5e-7e0a-4b43-9a57-0d4bbd1a3a51"
}

variable "node_type" {
  type    = string
  default = "POP2-4C-16G"
}

variable "min_nodes" {
  type    = number
  default = 3
}

variable "max_nodes" {
  type    = number
  default = 12
}
