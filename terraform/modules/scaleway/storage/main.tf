resource "scaleway_object_bucket" "this" {
  for_each = var.buckets

  # The purpose is part of the name, so that backup and log buckets are recognisable by name.
  name          = "${var.name_prefix}-${each.value.purpose}-${each.key}"
  force_destroy = false
  tags          = merge(var.tags, { environment = var.environment, purpose = each.value.purpose, "managed-by" = "terraform" })

  versioning {
    enabled = true
  }

  # Replaced and deleted versions stay recoverable for retention_days.
  lifecycle_rule {
    id                                     = "retention"
    enabled                                = true
    abort_incomplete_multipart_upload_days = 7

    noncurrent_version_expiration {
      noncurrent_days = each.value.retention_days
    }
  }

  # Backups and logs: archived after archive_after_days, deleted after archive_retention_days.
  lifecycle_rule {
    id      = "archive"
    enabled = each.value.purpose != "data"

    transition {
      days          = each.value.archive_after_days
      storage_class = "GLACIER"
    }

    expiration {
      days = each.value.archive_retention_days
    }
  }

  lifecycle {
    precondition {
      condition     = length("${var.name_prefix}-${each.value.purpose}-${each.key}") <= 63
      error_message = "The bucket name ${var.name_prefix}-${each.value.purpose}-${each.key} is longer than 63 characters."
    }
  }
}

resource "scaleway_object_bucket_acl" "this" {
  for_each = var.buckets

  bucket = scaleway_object_bucket.this[each.key].id
  acl    = "private"
}
