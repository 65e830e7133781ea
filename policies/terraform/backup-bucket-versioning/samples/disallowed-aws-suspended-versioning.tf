resource "aws_s3_bucket" "backups" {
  bucket = "gatehouse-production-euw3-backups"

  tags = {
    environment = "production"
  }
}

resource "aws_s3_bucket_versioning" "backups" {
  bucket = aws_s3_bucket.backups.id

  versioning_configuration {
    status = "Suspended"
  }
}

# A log bucket without any versioning resource.
resource "aws_s3_bucket" "access_logs" {
  bucket = "gatehouse-production-euw3-access-logs"
}
