output "bucket_names" {
  description = "Bucket names, by key of `buckets`."
  value       = { for key, bucket in aws_s3_bucket.this : key => bucket.bucket }
}

output "bucket_endpoints" {
  description = "HTTPS endpoints of the buckets (regional virtual-hosted style), by key of `buckets`."
  value       = { for key, bucket in aws_s3_bucket.this : key => "https://${bucket.bucket_regional_domain_name}" }
}
