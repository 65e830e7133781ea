# The provider-neutral database interface (terraform/modules/README.md): the AWS implementation
# takes exactly the same variables.

variable "name" {
  description = "Name of the database instance."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.name))
    error_message = "name must be lowercase letters, digits and hyphens, at most 63 characters."
  }
}

variable "environment" {
  description = "Environment of the database: staging or production."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "engine_version" {
  description = "PostgreSQL major version, e.g. \"16\" (Scaleway engine PostgreSQL-<version>)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{2}$", var.engine_version))
    error_message = "engine_version must be a PostgreSQL major version such as \"16\"."
  }
}

variable "instance_size" {
  description = "Node type of the instance (Scaleway Managed Database node type, e.g. DB-PRO2-XS)."
  type        = string
}

variable "high_availability" {
  description = "Run the instance as a high-availability cluster: a standby node in sync that takes over automatically."
  type        = bool
  default     = true

  validation {
    condition     = var.high_availability
    error_message = "high_availability must stay true (Data Management: relational database with high availability)."
  }
}

variable "read_replicas" {
  description = "Number of read replicas, in another availability zone than the primary (at least 1: with the HA pair, three copies of the data)."
  type        = number
  default     = 1

  validation {
    condition     = var.read_replicas >= 1 && floor(var.read_replicas) == var.read_replicas
    error_message = "read_replicas must be a whole number of at least 1 (Data Management: 3+ replicas)."
  }
}

variable "backup_frequency_hours" {
  description = "Hours between two automated backups (1 to 24)."
  type        = number
  default     = 24

  validation {
    condition     = var.backup_frequency_hours >= 1 && var.backup_frequency_hours <= 24 && floor(var.backup_frequency_hours) == var.backup_frequency_hours
    error_message = "backup_frequency_hours must be a whole number from 1 to 24 (Disaster Recovery: automated daily backups)."
  }
}

variable "backup_retention_days" {
  description = "Days an automated backup is kept (at least 30)."
  type        = number
  default     = 30

  validation {
    condition     = var.backup_retention_days >= 30 && floor(var.backup_retention_days) == var.backup_retention_days
    error_message = "backup_retention_days must be a whole number of at least 30 (Disaster Recovery: 30-day retention)."
  }
}

variable "network_id" {
  description = "ID of the Private Network the instance and its replicas are reachable on (their only endpoints)."
  type        = string
}

variable "allowed_cidrs" {
  description = "CIDRs allowed to connect (the instance's ACL). Empty: no ACL is set, and the instance, which has no public endpoint, is reachable from its Private Network only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.allowed_cidrs : can(cidrnetmask(cidr)) && cidr != "0.0.0.0/0"])
    error_message = "allowed_cidrs must be IPv4 CIDRs and must not contain 0.0.0.0/0."
  }
}

variable "admin_username" {
  description = "Name of the instance's first (administrator) user."
  type        = string
  default     = "gatehouse_admin"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.admin_username))
    error_message = "admin_username must start with a letter or '_' and hold lowercase letters, digits and '_' (at most 63)."
  }
}

variable "admin_password" {
  description = "Password of the administrator user, from the pipeline's secret store (TF_VAR_...). null asks the provider to manage it where it can: Scaleway cannot, so this implementation requires it."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.admin_password == null || try(length(var.admin_password) >= 12, false)
    error_message = "admin_password must be at least 12 characters."
  }
}

variable "tags" {
  description = "Extra tags as key/value pairs; the module adds environment and name."
  type        = map(string)
  default     = {}
}
