# The provider-neutral interface of the `database` module (terraform/modules/README.md): the
# Scaleway implementation (../../scaleway/database) declares the same variables, types, defaults
# and validations. Limits that only AWS has (RDS keeps automated backups 35 days at most, an RDS
# identifier starts with a letter, characters RDS refuses in a password) are checked by
# preconditions in main.tf, not here.

variable "name" {
  description = "Name of the database: the identifier of the primary RDS instance; replicas are named `<name>-replica-<n>`."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.name))
    error_message = "name must be lowercase letters, digits and hyphens, at most 63 characters."
  }
}

variable "environment" {
  description = "Environment the database belongs to: `staging` or `production`."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "engine_version" {
  description = "PostgreSQL major version, e.g. \"16\" (RDS picks the latest minor version and upgrades minor versions automatically)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{2}$", var.engine_version))
    error_message = "engine_version must be a PostgreSQL major version such as \"16\"."
  }
}

variable "instance_size" {
  description = "RDS instance class of the primary and of the replicas, e.g. \"db.m7g.large\"."
  type        = string
}

variable "high_availability" {
  description = "Multi-AZ primary and replicas: a synchronous standby in another availability zone that takes over automatically."
  type        = bool
  default     = true

  validation {
    condition     = var.high_availability
    error_message = "high_availability must stay true (Data Management: relational database with high availability)."
  }
}

variable "read_replicas" {
  description = "Number of read replicas of the primary (at least 1: with the Multi-AZ pair, three copies of the data)."
  type        = number
  default     = 1

  validation {
    condition     = var.read_replicas >= 1 && floor(var.read_replicas) == var.read_replicas
    error_message = "read_replicas must be a whole number of at least 1 (Data Management: 3+ replicas)."
  }
}

variable "backup_frequency_hours" {
  description = "Hours between two automated backups (1 to 24). RDS takes a daily snapshot and archives the transaction logs every 5 minutes (point-in-time recovery), which meets any value of this range."
  type        = number
  default     = 24

  validation {
    condition     = var.backup_frequency_hours >= 1 && var.backup_frequency_hours <= 24 && floor(var.backup_frequency_hours) == var.backup_frequency_hours
    error_message = "backup_frequency_hours must be a whole number from 1 to 24 (Disaster Recovery: automated daily backups)."
  }
}

variable "backup_retention_days" {
  description = "Days the automated backups are kept (at least 30; RDS allows at most 35)."
  type        = number
  default     = 30

  validation {
    condition     = var.backup_retention_days >= 30 && floor(var.backup_retention_days) == var.backup_retention_days
    error_message = "backup_retention_days must be a whole number of at least 30 (Disaster Recovery: 30-day retention)."
  }
}

variable "network_id" {
  description = "Name of an existing DB subnet group (private subnets of the VPC, in at least two availability zones) the instances are placed in."
  type        = string
}

variable "allowed_cidrs" {
  description = "IPv4 CIDR blocks allowed to connect to PostgreSQL (port 5432), through a security group the module creates. Empty: no security group; the instances are reachable by nothing until one is attached."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.allowed_cidrs : can(cidrnetmask(cidr)) && cidr != "0.0.0.0/0"])
    error_message = "allowed_cidrs must be IPv4 CIDRs and must not contain 0.0.0.0/0."
  }
}

variable "admin_username" {
  description = "Name of the administrator (master) user."
  type        = string
  default     = "gatehouse_admin"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.admin_username))
    error_message = "admin_username must start with a letter or '_' and hold lowercase letters, digits and '_' (at most 63)."
  }
}

variable "admin_password" {
  description = "Password of the administrator user, from the pipeline (TF_VAR_...), never committed. null: RDS generates it and keeps it in AWS Secrets Manager, rotated (manage_master_user_password)."
  type        = string
  sensitive   = true
  default     = null

  validation {
    condition     = var.admin_password == null || try(length(var.admin_password) >= 12, false)
    error_message = "admin_password must be at least 12 characters."
  }
}

variable "tags" {
  description = "Extra tags of every resource; the module adds environment, component and managed-by."
  type        = map(string)
  default     = {}
}
