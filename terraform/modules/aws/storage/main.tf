# S3 buckets behind the provider-neutral `storage` interface, one per entry of `buckets`, each
# with its own versioning, public access block, ownership controls, default encryption and
# lifecycle configuration resources (AWS provider v4+ style), linked to the bucket by a direct
# reference so that Gatehouse's policies pair them from the .tf sources as well as from a plan.

locals {
  tags = merge(var.tags, {
    environment = var.environment
    component   = "storage"
    managed-by  = "terraform"
  })
}

resource "aws_s3_bucket" "this" {
  for_each = var.buckets

  bucket = "${var.name_prefix}-${each.value.purpose}-${each.key}"
  # Backups and logs outlive a `terraform destroy` unless emptied on purpose.
  force_destroy = false

  tags = merge(local.tags, { purpose = each.value.purpose })

  lifecycle {
    precondition {
      condition     = length("${var.name_prefix}-${each.value.purpose}-${each.key}") <= 63
      error_message = "S3 bucket name \"${var.name_prefix}-${each.value.purpose}-${each.key}\" is longer than 63 characters: shorten name_prefix or the key."
    }
  }
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = var.buckets

  bucket = aws_s3_bucket.this[each.key].bucket

  # ACLs disabled: access is granted by IAM and bucket policies only.
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = var.buckets

  bucket = aws_s3_bucket.this[each.key].bucket

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = var.buckets

  bucket = aws_s3_bucket.this[each.key].bucket

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = var.buckets

  bucket = aws_s3_bucket.this[each.key].bucket

  rule {
    # Log buckets receive S3 server access logs and load balancer access logs, which AWS
    # delivers with S3-managed keys only; the others use the account's AWS-managed KMS key.
    apply_server_side_encryption_by_default {
      sse_algorithm = each.value.purpose == "logs" ? "AES256" : "aws:kms"
    }
    bucket_key_enabled = each.value.purpose == "logs" ? null : true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = var.buckets

  bucket = aws_s3_bucket.this[each.key].bucket

  # Short-term retention: a replaced or deleted object stays recoverable retention_days.
  rule {
    id     = "retention"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = each.value.retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # Archives: current objects move to GLACIER after archive_after_days and are deleted at
  # archive_retention_days (one year by default). Disabled on data buckets.
  rule {
    id     = "archive"
    status = each.value.purpose == "data" ? "Disabled" : "Enabled"

    filter {}

    transition {
      days          = each.value.archive_after_days
      storage_class = "GLACIER"
    }

    expiration {
      days = each.value.archive_retention_days
    }
  }

  # Noncurrent-version rules need versioning in place first.
  depends_on = [aws_s3_bucket_versioning.this]
}
