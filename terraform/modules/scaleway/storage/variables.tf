# The provider-neutral storage interface (terraform/modules/README.md): the AWS implementation
# takes exactly the same variables.

variable "name_prefix" {
  description = "Prefix of the bucket names, unique to the organisation and the environment (e.g. gatehouse-prod): a bucket is named <name_prefix>-<purpose>-<key>."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$", var.name_prefix))
    error_message = "name_prefix must be lowercase letters, digits and hyphens, at most 40 characters."
  }
}

variable "environment" {
  description = "Environment of the buckets: staging or production."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "buckets" {
  description = <<-EOT
    Buckets to create, keyed by a short name: purpose (backups, logs or data), retention_days
    (days a replaced or deleted object version stays recoverable, at least 30), archive_after_days
    (days before an object moves to the archive storage class, GLACIER) and archive_retention_days
    (days after which an object is deleted, at least 365). The archive rules apply to backups and
    logs; data buckets keep their objects.
  EOT
  type = map(object({
    purpose                = string
    retention_days         = optional(number, 30)
    archive_after_days     = optional(number, 30)
    archive_retention_days = optional(number, 365)
  }))

  validation {
    condition     = alltrue([for key, bucket in var.buckets : contains(["backups", "logs", "data"], bucket.purpose)])
    error_message = "Every bucket's purpose must be backups, logs or data."
  }

  validation {
    condition     = alltrue([for key in keys(var.buckets) : can(regex("^[a-z0-9]([-a-z0-9]{0,14}[a-z0-9])?$", key))])
    error_message = "Bucket keys must be lowercase letters, digits and hyphens, at most 16 characters (they end the bucket name)."
  }

  validation {
    condition     = alltrue([for key, bucket in var.buckets : bucket.purpose != "data" || (length(regexall("backup|log", key)) == 0)])
    error_message = "A data bucket's key must not contain \"backup\" or \"log\": such names mark backup and log buckets, which must be archived."
  }

  validation {
    condition     = alltrue([for key, bucket in var.buckets : bucket.retention_days >= 30])
    error_message = "retention_days must be at least 30 (Disaster Recovery: 30-day retention)."
  }

  validation {
    condition     = alltrue([for key, bucket in var.buckets : bucket.archive_after_days >= 1 && bucket.archive_retention_days >= 365 && bucket.archive_retention_days > bucket.archive_after_days])
    error_message = "archive_after_days must be at least 1, and archive_retention_days at least 365 and greater than archive_after_days (Disaster Recovery: monthly archives kept a year)."
  }
}

variable "tags" {
  description = "Extra tags as key/value pairs; the module adds environment, purpose and managed-by."
  type        = map(string)
  default     = {}
}
