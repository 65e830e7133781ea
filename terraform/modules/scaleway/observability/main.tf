# Logs and traces are exported to object storage by the in-cluster Loki and Tempo (charts/addons);
# Scaleway's own metrics and logs of the managed resources go to Cockpit, which is on for every
# Project.

module "buckets" {
  source = "../storage"

  name_prefix = var.name_prefix
  environment = var.environment
  tags        = var.bucket_tags

  buckets = {
    loki-chunks = {
      purpose                = "logs"
      retention_days         = var.log_retention_days
      archive_after_days     = var.log_archive_after_days
      archive_retention_days = var.log_archive_retention_days
    }
    tempo-traces = {
      purpose                = "logs"
      retention_days         = var.log_retention_days
      archive_after_days     = var.log_archive_after_days
      archive_retention_days = var.log_archive_retention_days
    }
    # Rule files and compactor state are read for as long as they exist: never archived.
    loki-ruler = {
      purpose                = "data"
      retention_days         = var.log_retention_days
      archive_after_days     = var.log_archive_after_days
      archive_retention_days = var.log_archive_retention_days
    }
    loki-admin = {
      purpose                = "data"
      retention_days         = var.log_retention_days
      archive_after_days     = var.log_archive_after_days
      archive_retention_days = var.log_archive_retention_days
    }
  }
}

# The identity Loki and Tempo write to their buckets with. Scaleway IAM cannot scope a policy to
# single buckets: it covers the Object Storage of the environment's Project.
resource "scaleway_iam_application" "telemetry" {
  name        = "${var.name_prefix}-telemetry-writer"
  description = "Loki and Tempo of ${var.environment}: read and write their object storage buckets."
  tags        = var.tags
}

resource "scaleway_iam_policy" "telemetry" {
  name           = "${var.name_prefix}-telemetry-writer"
  description    = "Object Storage access of Loki and Tempo (${var.environment})."
  application_id = scaleway_iam_application.telemetry.id
  tags           = var.tags

  rule {
    project_ids          = [var.project_id]
    permission_set_names = ["ObjectStorageBucketsRead", "ObjectStorageObjectsRead", "ObjectStorageObjectsWrite", "ObjectStorageObjectsDelete"]
  }
}

resource "scaleway_iam_api_key" "telemetry" {
  application_id     = scaleway_iam_application.telemetry.id
  description        = "Loki and Tempo S3 access (${var.environment}); rotate by replacing this resource."
  default_project_id = var.project_id
}

resource "scaleway_cockpit_alert_manager" "this" {
  project_id            = var.project_id
  region                = var.region
  enable_managed_alerts = true

  dynamic "contact_points" {
    for_each = var.alert_contact_emails

    content {
      email = contact_points.value
    }
  }
}
