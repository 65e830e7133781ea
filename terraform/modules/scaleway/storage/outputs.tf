output "bucket_names" {
  description = "Bucket names, by key."
  value       = { for key, bucket in scaleway_object_bucket.this : key => bucket.name }
}

output "bucket_endpoints" {
  description = "Bucket endpoint URLs (https://<bucket>.s3.<region>.scw.cloud), by key."
  value       = { for key, bucket in scaleway_object_bucket.this : key => bucket.endpoint }
}
