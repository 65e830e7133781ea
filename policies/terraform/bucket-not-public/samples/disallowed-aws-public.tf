# A public access block switched off, and a public-read ACL.
resource "aws_s3_bucket_public_access_block" "assets" {
  bucket = "gatehouse-production-assets"

  block_public_acls       = false
  block_public_policy     = false
  ignore_public_acls      = false
  restrict_public_buckets = false
}

resource "aws_s3_bucket_acl" "assets" {
  bucket = "gatehouse-production-assets"
  acl    = "public-read"
}
