resource "scaleway_object_bucket" "postgres_backups" {
  name          = "gatehouse-prod-backups-postgres"
  region        = "fr-par"
  force_destroy = false

  tags = {
    environment = "production"
    purpose     = "backups"
  }

  versioning {
    enabled = true
  }

  # Replaced and deleted backups stay recoverable for 30 days.
  lifecycle_rule {
    id                                     = "retention"
    enabled                                = true
    abort_incomplete_multipart_upload_days = 7

    noncurrent_version_expiration {
      noncurrent_days = 30
    }
  }

  # Backups move to Glacier after 30 days and are deleted after a year.
  lifecycle_rule {
    id      = "archive"
    enabled = true

    transition {
      days          = 30
      storage_class = "GLACIER"
    }

    expiration {
      days = 365
    }
  }
}
