variable "environment" {
  description = "Environment of the cluster: dev, staging or production. Passed to the platform-baseline chart and used for the namespaces' environment label."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "production"], var.environment)
    error_message = "environment must be one of dev, staging, production."
  }
}

variable "charts_dir" {
  description = "Directory of the repository's charts/ (with addons/versions.yaml, platform-baseline and policy-webhook). Null: the charts/ of the repository holding this module."
  type        = string
  default     = null
}

variable "enabled_addons" {
  description = "Add-ons of charts/addons/versions.yaml to install or not, by name (e.g. { keda = false }). An add-on left out is installed."
  type        = map(bool)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.enabled_addons) : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", name))])
    error_message = "enabled_addons keys are add-on names of charts/addons/versions.yaml (DNS labels)."
  }
}

variable "addon_values" {
  description = "Extra values per add-on, as a YAML document applied over charts/addons/<name>/values.yaml (e.g. the environment's storage size or bucket names)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for doc in values(var.addon_values) : can(yamldecode(doc))])
    error_message = "Every addon_values entry must be a valid YAML document."
  }
}

variable "manage_namespaces" {
  description = "Create the add-on and Gatehouse namespaces with the environment and Pod Security labels (kubernetes_namespace_v1). False lets Helm create them unlabelled (create_namespace), which the Gatehouse namespace policies refuse."
  type        = bool
  default     = true
}

variable "namespace_labels" {
  description = "Extra labels of the namespaces this module creates."
  type        = map(string)
  default     = {}
}

variable "bootstrap_secrets" {
  description = "Secrets that must exist before the add-ons start (e.g. grafana-admin, alertmanager-receivers, loki-s3 and tempo-s3, before External Secrets can fill them), keyed by an arbitrary id. Pass them from the CI/CD secret store (TF_VAR_bootstrap_secrets), never from a committed file."
  type = map(object({
    namespace = string
    name      = string
    data      = map(string)
  }))
  default   = {}
  sensitive = true

  validation {
    condition = alltrue([
      for s in values(var.bootstrap_secrets) :
      can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", s.namespace)) && can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", s.name))
    ])
    error_message = "bootstrap_secrets: namespace must be a DNS label and name a DNS subdomain."
  }
}

variable "gatehouse_enabled" {
  description = "Install the Gatehouse admission webhook (charts/policy-webhook), after cert-manager and kube-prometheus-stack."
  type        = bool
  default     = true
}

variable "gatehouse_namespace" {
  description = "Namespace of the Gatehouse webhook."
  type        = string
  default     = "gatehouse-system"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.gatehouse_namespace))
    error_message = "gatehouse_namespace must be a DNS label."
  }
}

variable "gatehouse_values" {
  description = "Values of the Gatehouse chart, as YAML documents (later ones win)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for doc in var.gatehouse_values : can(yamldecode(doc))])
    error_message = "Every gatehouse_values entry must be a valid YAML document."
  }
}

variable "baseline_enabled" {
  description = "Install the platform-baseline chart: namespaces, quotas, NetworkPolicies, PriorityClasses and RBAC before the add-ons (release platform-baseline), its SLO rules and dashboards after kube-prometheus-stack (release platform-monitoring)."
  type        = bool
  default     = true
}

variable "baseline_namespace" {
  description = "Namespace of the platform-baseline releases' records (the objects carry their own namespaces)."
  type        = string
  default     = "platform-system"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.baseline_namespace))
    error_message = "baseline_namespace must be a DNS label."
  }
}

variable "baseline_values" {
  description = "The environment's values of the platform-baseline chart, as YAML documents (later ones win), e.g. file(\"charts/platform-baseline/ci/production-values.yaml\") or the environment's own file. The module sets `environment` itself."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for doc in var.baseline_values : can(keys(yamldecode(doc)))])
    error_message = "Every baseline_values entry must be a YAML mapping."
  }
}

variable "atomic" {
  description = "Roll a release back when its install or upgrade fails."
  type        = bool
  default     = true
}

variable "wait" {
  description = "Wait until every resource of a release is ready before marking it successful."
  type        = bool
  default     = true
}

variable "timeout" {
  description = "Seconds to wait for one release."
  type        = number
  default     = 900

  validation {
    condition     = var.timeout >= 60 && var.timeout <= 3600
    error_message = "timeout must be between 60 and 3600 seconds."
  }
}

variable "max_history" {
  description = "Release revisions Helm keeps per release."
  type        = number
  default     = 10

  validation {
    condition     = var.max_history >= 1
    error_message = "max_history must be at least 1."
  }
}
