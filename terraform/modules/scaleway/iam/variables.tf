variable "name_prefix" {
  description = "Prefix of the IAM group and policy names, the environment's (e.g. gatehouse-prod gives gatehouse-prod-platform-admins, gatehouse-prod-developers...)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,46}[a-z0-9])?$", var.name_prefix))
    error_message = "name_prefix must be lowercase letters, digits and hyphens, at most 48 characters."
  }
}

variable "environment" {
  description = "Environment the groups give access to: staging or production."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "project_id" {
  description = "ID of the environment's Scaleway Project. Every policy is scoped to it alone, so that a group of one environment has no access to another's resources or cluster."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.project_id))
    error_message = "project_id must be a Scaleway Project ID (a UUID)."
  }
}

variable "tags" {
  description = "Tags of the groups and policies, as Scaleway \"key=value\" strings; include \"environment=<name>\"."
  type        = list(string)
  default     = []
}

# Every Kubernetes-facing group holds KubernetesReadOnly: it lets its members authenticate to the
# cluster with their IAM key (and read it, Secrets excluded, as Scaleway's default
# scaleway:cluster-read binding allows); what they may change is granted by the platform-baseline
# chart's RBAC, bound to the group's Kubernetes name scaleway:group:<id>.

variable "platform_admin_permission_sets" {
  description = "Scaleway permission sets of the platform administrators (operators) in the environment's Project."
  type        = list(string)
  default     = ["KubernetesReadOnly", "AllProductsReadOnly", "ObservabilityFullAccess"]

  validation {
    condition     = contains(var.platform_admin_permission_sets, "KubernetesReadOnly") || contains(var.platform_admin_permission_sets, "KubernetesFullAccess")
    error_message = "platform_admin_permission_sets needs KubernetesReadOnly or KubernetesFullAccess, or its members cannot authenticate to the cluster."
  }

  validation {
    condition     = !contains(var.platform_admin_permission_sets, "KubernetesSystemMastersGroupAccess")
    error_message = "KubernetesSystemMastersGroupAccess (system:masters) belongs to the break-glass group only."
  }
}

variable "developer_permission_sets" {
  description = "Scaleway permission sets of the developers in the environment's Project."
  type        = list(string)
  default     = ["KubernetesReadOnly", "ObservabilityReadOnly"]

  validation {
    condition     = contains(var.developer_permission_sets, "KubernetesReadOnly")
    error_message = "developer_permission_sets needs KubernetesReadOnly, or developers cannot authenticate to the cluster."
  }

  validation {
    condition     = !contains(var.developer_permission_sets, "KubernetesSystemMastersGroupAccess") && !contains(var.developer_permission_sets, "KubernetesFullAccess")
    error_message = "Developers get write access through the chart's RBAC, per namespace and environment, never KubernetesFullAccess or system:masters."
  }
}

variable "auditor_permission_sets" {
  description = "Scaleway permission sets of the auditors in the environment's Project (read-only)."
  type        = list(string)
  default     = ["KubernetesReadOnly", "AllProductsReadOnly", "ObservabilityReadOnly"]

  validation {
    condition     = alltrue([for set in var.auditor_permission_sets : endswith(set, "ReadOnly")])
    error_message = "auditor_permission_sets may hold read-only permission sets only (names ending in ReadOnly)."
  }
}

variable "additional_kubernetes_groups" {
  description = "Kubernetes group names of groups managed outside this environment (e.g. an organisation-wide security team's scaleway:group:<id>), added to the chart's platformAdmins, developers or auditors."
  type = object({
    platformAdmins = optional(list(string), [])
    developers     = optional(list(string), [])
    auditors       = optional(list(string), [])
  })
  default = {}

  validation {
    condition     = alltrue([for group in concat(var.additional_kubernetes_groups.platformAdmins, var.additional_kubernetes_groups.developers, var.additional_kubernetes_groups.auditors) : !startswith(group, "system:")])
    error_message = "additional_kubernetes_groups must not name system: groups."
  }
}
