resource "aws_s3_bucket" "logs" {
  bucket        = "gatehouse-production-euw3-logs"
  force_destroy = false

  tags = {
    environment = "production"
    purpose     = "logs"
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id

  versioning_configuration {
    status = "Enabled"
  }
}
