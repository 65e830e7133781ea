# The public access block and policy of the backup bucket (created by the storage stack).
resource "aws_s3_bucket_public_access_block" "backups" {
  bucket = "gatehouse-production-euw3-backups"

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_policy" "backups" {
  bucket = "gatehouse-production-euw3-backups"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "BackupWriter"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::111122223333:role/gatehouse-production-backup" }
        Action    = ["s3:PutObject", "s3:GetObject", "s3:ListBucket"]
        Resource = [
          "arn:aws:s3:::gatehouse-production-euw3-backups",
          "arn:aws:s3:::gatehouse-production-euw3-backups/*",
        ]
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource = [
          "arn:aws:s3:::gatehouse-production-euw3-backups",
          "arn:aws:s3:::gatehouse-production-euw3-backups/*",
        ]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

resource "aws_s3_account_public_access_block" "account" {
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
