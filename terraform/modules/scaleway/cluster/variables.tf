variable "name" {
  description = "Name of the Kapsule cluster (e.g. gatehouse-prod)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.name))
    error_message = "name must be lowercase letters, digits and hyphens, at most 63 characters."
  }
}

variable "environment" {
  description = "Environment of the cluster: staging or production. Production requires a dedicated control plane."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "type" {
  description = "Cluster type: kapsule (mutualised control plane) or kapsule-dedicated-<size> (dedicated, highly available control plane), which production requires."
  type        = string

  validation {
    condition     = can(regex("^kapsule(-dedicated-[0-9]+)?$", var.type))
    error_message = "type must be kapsule or kapsule-dedicated-<size> (e.g. kapsule-dedicated-8)."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version (x.y): patch versions are applied by auto-upgrade in the maintenance window."
  type        = string

  validation {
    condition     = can(regex("^1\\.[0-9]+$", var.kubernetes_version))
    error_message = "kubernetes_version must be a minor version such as 1.31 (auto-upgrade picks the patch)."
  }
}

variable "cni" {
  description = "Container Network Interface of the cluster (cannot change after creation)."
  type        = string
  default     = "cilium"

  validation {
    condition     = contains(["cilium", "calico"], var.cni)
    error_message = "cni must be cilium or calico (both enforce NetworkPolicies)."
  }
}

variable "region" {
  description = "Scaleway region of the cluster."
  type        = string
  default     = "fr-par"
}

variable "zone" {
  description = "Availability zone of the node pools."
  type        = string
  default     = "fr-par-1"
}

variable "private_network_id" {
  description = "ID of the Private Network the cluster and its nodes are attached to (it needs a Public Gateway for the nodes' egress)."
  type        = string
}

variable "tags" {
  description = "Tags of the cluster and its pools, as Scaleway \"key=value\" strings; must contain \"environment=<environment>\"."
  type        = list(string)
}

variable "delete_additional_resources" {
  description = "Delete the volumes and load balancers the cluster created when it is deleted. Keep false where data must survive a mistaken destroy."
  type        = bool
  default     = false
}

variable "maintenance_window_day" {
  description = "Day of the 2-hour window in which Scaleway applies Kubernetes patch upgrades: monday to sunday, or any."
  type        = string
  default     = "sunday"

  validation {
    condition     = contains(["any", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"], var.maintenance_window_day)
    error_message = "maintenance_window_day must be monday to sunday, or any."
  }
}

variable "maintenance_window_start_hour" {
  description = "Start hour (UTC, 0 to 23) of the auto-upgrade maintenance window."
  type        = number
  default     = 3

  validation {
    condition     = var.maintenance_window_start_hour >= 0 && var.maintenance_window_start_hour <= 23 && floor(var.maintenance_window_start_hour) == var.maintenance_window_start_hour
    error_message = "maintenance_window_start_hour must be an integer from 0 to 23."
  }
}

variable "autoscaler_expander" {
  description = "How the cluster autoscaler picks the pool to grow: least_waste prefers the pool whose node fits the pending pods best, so large pods go to the burst pool's larger nodes."
  type        = string
  default     = "least_waste"

  validation {
    condition     = contains(["random", "most_pods", "least_waste", "priority", "price"], var.autoscaler_expander)
    error_message = "autoscaler_expander must be random, most_pods, least_waste, priority or price."
  }
}

variable "api_allowed_cidrs" {
  description = "CIDRs allowed to reach the Kubernetes API server. null keeps Scaleway's default (open, every caller still authenticated by IAM); [] isolates it completely; a list allows those ranges only."
  type        = list(string)
  default     = null

  validation {
    condition     = var.api_allowed_cidrs == null ? true : alltrue([for cidr in var.api_allowed_cidrs : can(cidrnetmask(cidr)) && cidr != "0.0.0.0/0"])
    error_message = "api_allowed_cidrs must be IPv4 CIDRs, without 0.0.0.0/0."
  }
}

# Tiered scaling: every pool keeps an always-on minimum and scales up to its maximum; the burst
# pool adds larger nodes when the application pool's nodes are too small or full.

variable "system_pool_node_type" {
  description = "Node type of the system pool (platform add-ons: gateway, monitoring, cert-manager, Gatehouse)."
  type        = string
}

variable "system_pool_min_size" {
  description = "Always-on nodes of the system pool (at least 2: no single point of failure)."
  type        = number
  default     = 2

  validation {
    condition     = var.system_pool_min_size >= 2
    error_message = "system_pool_min_size must be at least 2 (High Availability: no single points of failure)."
  }
}

variable "system_pool_max_size" {
  description = "Largest size the autoscaler may grow the system pool to (greater than system_pool_min_size)."
  type        = number
  default     = 4
}

variable "application_pool_node_type" {
  description = "Node type of the application pool, where stateless services run by default."
  type        = string
}

variable "application_pool_min_size" {
  description = "Always-on nodes of the application pool (at least 2)."
  type        = number
  default     = 2

  validation {
    condition     = var.application_pool_min_size >= 2
    error_message = "application_pool_min_size must be at least 2 (High Availability: no single points of failure)."
  }
}

variable "application_pool_max_size" {
  description = "Largest size of the application pool (greater than application_pool_min_size)."
  type        = number
  default     = 6
}

variable "burst_pool_node_type" {
  description = "Node type of the burst pool: a larger type than application_pool_node_type, for the scale-up tier."
  type        = string
}

variable "burst_pool_min_size" {
  description = "Always-on nodes of the burst pool (at least 2: a pool that may be scaled to fewer would leave the larger tier with a single point of failure)."
  type        = number
  default     = 2

  validation {
    condition     = var.burst_pool_min_size >= 2
    error_message = "burst_pool_min_size must be at least 2 (High Availability: no single points of failure)."
  }
}

variable "burst_pool_max_size" {
  description = "Largest size of the burst pool (greater than burst_pool_min_size)."
  type        = number
  default     = 4
}

variable "stateful_pool_node_type" {
  description = "Node type of the stateful pool, reserved by a taint for databases, brokers and other stateful workloads."
  type        = string
}

variable "stateful_pool_min_size" {
  description = "Always-on nodes of the stateful pool (at least 2, so that replicated stateful workloads spread over nodes)."
  type        = number
  default     = 3

  validation {
    condition     = var.stateful_pool_min_size >= 2
    error_message = "stateful_pool_min_size must be at least 2 (High Availability: no single points of failure)."
  }
}

variable "stateful_pool_max_size" {
  description = "Largest size of the stateful pool (greater than stateful_pool_min_size)."
  type        = number
  default     = 5
}

variable "stateful_taint" {
  description = "Taint of the stateful pool's nodes, as key, value and effect. Scaleway applies it from the pool tag \"taint=<key>=<value>:<effect>\", prefixing the key with k8s.scaleway.com/."
  type = object({
    key    = string
    value  = string
    effect = string
  })
  default = {
    key    = "workload-class"
    value  = "stateful"
    effect = "NoSchedule"
  }

  validation {
    condition     = contains(["NoSchedule", "NoExecute", "PreferNoSchedule"], var.stateful_taint.effect) && can(regex("^[A-Za-z0-9][-A-Za-z0-9_.]*$", var.stateful_taint.key)) && can(regex("^[A-Za-z0-9][-A-Za-z0-9_.]*$", var.stateful_taint.value))
    error_message = "stateful_taint needs a key and value made of letters, digits, '-', '_' and '.', and an effect of NoSchedule, NoExecute or PreferNoSchedule."
  }
}
