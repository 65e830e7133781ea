resource "aws_s3_bucket" "backups" {
  bucket = "gatehouse-production-euw3-backups"
}

# Noncurrent versions kept 30 days, but nothing is archived.
resource "aws_s3_bucket_lifecycle_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id

  rule {
    id     = "retention"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }
  }
}

# A log bucket with no lifecycle configuration at all.
resource "aws_s3_bucket" "access_logs" {
  bucket = "gatehouse-production-euw3-access-logs"
}
