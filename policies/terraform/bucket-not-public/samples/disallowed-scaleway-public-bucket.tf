# A bucket made public twice: the deprecated ACL and a policy for everyone.
resource "scaleway_object_bucket" "assets" {
  name = "gatehouse-prod-assets"
  acl  = "public-read"
}

resource "scaleway_object_bucket_policy" "assets" {
  bucket = "gatehouse-prod-assets"
  policy = jsonencode({
    Version = "2023-04-17"
    Statement = [
      {
        Sid       = "PublicRead"
        Effect    = "Allow"
        Principal = "*"
        Action    = ["s3:GetObject"]
        Resource  = ["gatehouse-prod-assets/*"]
      },
    ]
  })
}
