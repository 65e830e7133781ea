# The lifecycle of the log bucket, which the storage stack creates.
resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = "gatehouse-production-euw3-logs"

  rule {
    id     = "retention"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  rule {
    id     = "archive"
    status = "Enabled"

    filter {}

    transition {
      days          = 30
      storage_class = "GLACIER"
    }

    expiration {
      days = 365
    }
  }
}
