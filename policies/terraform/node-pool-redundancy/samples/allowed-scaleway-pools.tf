# Autoscaled pools that never shrink below two nodes, and a fixed pool of three.
resource "scaleway_k8s_pool" "application" {
  cluster_id          = var.cluster_id
  name                = "application"
  node_type           = "POP2-4C-16G"
  size                = 3
  min_size            = 3
  max_size            = 12
  autoscaling         = true
  autohealing         = true
  public_ip_disabled  = true
  container_runtime   = "containerd"
  wait_for_pool_ready = true
  tags                = ["environment=production"]

  upgrade_policy {
    max_surge       = 1
    max_unavailable = 0
  }

  lifecycle {
    ignore_changes = [size]
  }
}

resource "scaleway_k8s_pool" "ingress" {
  cluster_id         = var.cluster_id
  name               = "ingress"
  node_type          = "POP2-2C-8G"
  size               = 3
  autohealing        = true
  public_ip_disabled = true
  tags               = ["environment=production"]
}

variable "cluster_id" {
  type    = string
  default = "fr-par/0c2c1f5e-7e0a-4b43-9a57-0d4bbd1a3a51"
}
