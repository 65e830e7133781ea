resource "aws_s3_bucket" "assets" {
  bucket = "gatehouse-production-assets"
}

# A block for another bucket does not count.
resource "aws_s3_bucket_public_access_block" "logs" {
  bucket = aws_s3_bucket.logs.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket" "logs" {
  bucket = "gatehouse-production-logs"
  acl    = "public-read"
}
