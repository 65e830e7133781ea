locals {
  # Scaleway's cloud controller turns pool tags into node labels and taints: "key=value" becomes
  # the label k8s.scaleway.com/key=value, "taint=key=value:Effect" the taint
  # k8s.scaleway.com/key=value:Effect.
  stateful_label_tag = "${var.stateful_taint.key}=${var.stateful_taint.value}"
  stateful_taint_tag = "taint=${var.stateful_taint.key}=${var.stateful_taint.value}:${var.stateful_taint.effect}"
}

resource "scaleway_k8s_cluster" "this" {
  name                        = var.name
  description                 = "Gatehouse platform cluster (${var.environment})"
  type                        = var.type
  version                     = var.kubernetes_version
  cni                         = var.cni
  region                      = var.region
  private_network_id          = var.private_network_id
  delete_additional_resources = var.delete_additional_resources
  tags                        = var.tags

  auto_upgrade {
    enable                        = true
    maintenance_window_start_hour = var.maintenance_window_start_hour
    maintenance_window_day        = var.maintenance_window_day
  }

  autoscaler_config {
    disable_scale_down               = false
    scale_down_delay_after_add       = "10m"
    scale_down_unneeded_time         = "10m"
    scale_down_utilization_threshold = 0.5
    estimator                        = "binpacking"
    expander                         = var.autoscaler_expander
    ignore_daemonsets_utilization    = true
    balance_similar_node_groups      = true
    expendable_pods_priority_cutoff  = -10
    max_graceful_termination_sec     = 600
  }

  lifecycle {
    precondition {
      condition     = var.environment != "production" || startswith(var.type, "kapsule-dedicated-")
      error_message = "A production cluster needs a dedicated control plane (type kapsule-dedicated-<size>): the mutualised one is a single point of failure."
    }
    precondition {
      condition     = contains(var.tags, "environment=${var.environment}")
      error_message = "tags must contain \"environment=${var.environment}\": policies and cost reports tell environments apart by it."
    }
  }
}

resource "scaleway_k8s_acl" "this" {
  count = var.api_allowed_cidrs == null ? 0 : 1

  cluster_id    = scaleway_k8s_cluster.this.id
  region        = var.region
  no_ip_allowed = length(var.api_allowed_cidrs) == 0 ? true : null

  dynamic "acl_rules" {
    for_each = var.api_allowed_cidrs

    content {
      ip          = acl_rules.value
      description = "Kubernetes API access"
    }
  }
}

# Every pool: autoscaled between an always-on minimum of at least two nodes and a larger maximum,
# autohealed, without public IPs, and upgraded by surging one node before draining one.

resource "scaleway_k8s_pool" "system" {
  cluster_id          = scaleway_k8s_cluster.this.id
  name                = "system"
  node_type           = var.system_pool_node_type
  region              = var.region
  zone                = var.zone
  size                = var.system_pool_min_size
  min_size            = var.system_pool_min_size
  max_size            = var.system_pool_max_size
  autoscaling         = true
  autohealing         = true
  public_ip_disabled  = true
  container_runtime   = "containerd"
  wait_for_pool_ready = true
  tags                = var.tags

  upgrade_policy {
    max_surge       = 1
    max_unavailable = 0
  }

  lifecycle {
    ignore_changes = [size]

    precondition {
      condition     = var.system_pool_max_size > var.system_pool_min_size
      error_message = "system_pool_max_size must be greater than system_pool_min_size, or the pool cannot scale."
    }
  }
}

resource "scaleway_k8s_pool" "application" {
  cluster_id          = scaleway_k8s_cluster.this.id
  name                = "application"
  node_type           = var.application_pool_node_type
  region              = var.region
  zone                = var.zone
  size                = var.application_pool_min_size
  min_size            = var.application_pool_min_size
  max_size            = var.application_pool_max_size
  autoscaling         = true
  autohealing         = true
  public_ip_disabled  = true
  container_runtime   = "containerd"
  wait_for_pool_ready = true
  tags                = var.tags

  upgrade_policy {
    max_surge       = 1
    max_unavailable = 0
  }

  lifecycle {
    ignore_changes = [size]

    precondition {
      condition     = var.application_pool_max_size > var.application_pool_min_size
      error_message = "application_pool_max_size must be greater than application_pool_min_size, or the pool cannot scale."
    }
  }
}

resource "scaleway_k8s_pool" "burst" {
  cluster_id          = scaleway_k8s_cluster.this.id
  name                = "burst"
  node_type           = var.burst_pool_node_type
  region              = var.region
  zone                = var.zone
  size                = var.burst_pool_min_size
  min_size            = var.burst_pool_min_size
  max_size            = var.burst_pool_max_size
  autoscaling         = true
  autohealing         = true
  public_ip_disabled  = true
  container_runtime   = "containerd"
  wait_for_pool_ready = true
  tags                = var.tags

  upgrade_policy {
    max_surge       = 1
    max_unavailable = 0
  }

  lifecycle {
    ignore_changes = [size]

    precondition {
      condition     = var.burst_pool_max_size > var.burst_pool_min_size
      error_message = "burst_pool_max_size must be greater than burst_pool_min_size, or the pool cannot scale."
    }
    precondition {
      condition     = var.burst_pool_node_type != var.application_pool_node_type
      error_message = "burst_pool_node_type must be a larger node type than application_pool_node_type: the burst pool is the scale-up tier."
    }
  }
}

resource "scaleway_k8s_pool" "stateful" {
  cluster_id          = scaleway_k8s_cluster.this.id
  name                = "stateful"
  node_type           = var.stateful_pool_node_type
  region              = var.region
  zone                = var.zone
  size                = var.stateful_pool_min_size
  min_size            = var.stateful_pool_min_size
  max_size            = var.stateful_pool_max_size
  autoscaling         = true
  autohealing         = true
  public_ip_disabled  = true
  container_runtime   = "containerd"
  wait_for_pool_ready = true
  tags                = concat(var.tags, [local.stateful_label_tag, local.stateful_taint_tag])

  # Stateful pods hold volumes: replace a node only once its replacement is up.
  upgrade_policy {
    max_surge       = 1
    max_unavailable = 0
  }

  lifecycle {
    ignore_changes = [size]

    precondition {
      condition     = var.stateful_pool_max_size > var.stateful_pool_min_size
      error_message = "stateful_pool_max_size must be greater than stateful_pool_min_size, or the pool cannot scale."
    }
  }
}
