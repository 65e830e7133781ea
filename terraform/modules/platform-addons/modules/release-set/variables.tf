variable "releases" {
  description = "Helm releases to install together, keyed by release name: repository, chart, version, namespace and values (YAML documents, later ones win)."
  type = map(object({
    repository = string
    chart      = string
    version    = string
    namespace  = string
    values     = list(string)
  }))
}

variable "create_namespace" {
  description = "Let Helm create each release's namespace (false when the caller manages labelled namespaces)."
  type        = bool
  default     = false
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
  default     = 600
}

variable "max_history" {
  description = "Release revisions Helm keeps."
  type        = number
  default     = 10
}
