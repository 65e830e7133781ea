# Access to the log bucket (created by the storage module) for Loki's IAM application only.
variable "bucket_name" {
  type    = string
  default = "gatehouse-prod-logs-loki-chunks"
}

variable "loki_application_id" {
  type    = string
  default = "7d7e9d0b-2d3c-4c8e-9d3b-1f2a3b4c5d6e"
}

resource "scaleway_object_bucket_acl" "logs" {
  bucket = var.bucket_name
  acl    = "private"
}

resource "scaleway_object_bucket_policy" "logs" {
  bucket = var.bucket_name
  policy = jsonencode({
    Version = "2023-04-17"
    Id      = "loki-chunks"
    Statement = [
      {
        Sid       = "LokiReadWrite"
        Effect    = "Allow"
        Principal = { SCW = "application_id:${var.loki_application_id}" }
        Action    = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"]
        Resource  = [var.bucket_name, "${var.bucket_name}/*"]
      },
    ]
  })
}
