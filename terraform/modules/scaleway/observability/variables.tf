variable "name_prefix" {
  description = "Prefix of the bucket and IAM application names, the environment's (e.g. gatehouse-prod)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$", var.name_prefix))
    error_message = "name_prefix must be lowercase letters, digits and hyphens, at most 40 characters."
  }
}

variable "environment" {
  description = "Environment: staging or production."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "project_id" {
  description = "ID of the environment's Scaleway Project: scope of the telemetry writer's access, and Project of the Cockpit alert manager."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.project_id))
    error_message = "project_id must be a Scaleway Project ID (a UUID)."
  }
}

variable "region" {
  description = "Region of the buckets and of Cockpit; gives the S3 endpoint s3.<region>.scw.cloud."
  type        = string
  default     = "fr-par"

  validation {
    condition     = contains(["fr-par", "nl-ams"], var.region)
    error_message = "region must be fr-par or nl-ams (the GLACIER storage class the archives use is not offered in pl-waw)."
  }
}

variable "log_retention_days" {
  description = "Days a replaced or deleted log or trace object stays recoverable (at least 30)."
  type        = number
  default     = 30

  validation {
    condition     = var.log_retention_days >= 30
    error_message = "log_retention_days must be at least 30 (Disaster Recovery: 30-day retention)."
  }
}

variable "log_archive_after_days" {
  description = "Days after which log and trace objects still in the buckets move to the GLACIER storage class."
  type        = number
  default     = 30

  validation {
    condition     = var.log_archive_after_days >= 1
    error_message = "log_archive_after_days must be at least 1."
  }
}

variable "log_archive_retention_days" {
  description = "Days after which log and trace objects are deleted (at least 365)."
  type        = number
  default     = 365

  validation {
    condition     = var.log_archive_retention_days >= 365
    error_message = "log_archive_retention_days must be at least 365 (Disaster Recovery: archives kept a year)."
  }
}

variable "alert_contact_emails" {
  description = "Addresses Cockpit's alert manager notifies for Scaleway's managed alerts on the environment's managed resources (cluster control plane, database...)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for email in var.alert_contact_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", email))])
    error_message = "alert_contact_emails must be e-mail addresses."
  }
}

variable "tags" {
  description = "Tags of the IAM application and policy, as Scaleway \"key=value\" strings; include \"environment=<name>\"."
  type        = list(string)
  default     = []
}

variable "bucket_tags" {
  description = "Extra tags of the buckets, as key/value pairs (the storage module adds environment and purpose)."
  type        = map(string)
  default     = {}
}
