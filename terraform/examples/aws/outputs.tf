output "database_endpoint" {
  description = "Host name of the primary database instance."
  value       = module.database.endpoint
}

output "database_replica_endpoints" {
  description = "Host names of the read replicas."
  value       = module.database.replica_endpoints
}

output "bucket_names" {
  description = "Bucket names, by key."
  value       = module.storage.bucket_names
}

output "load_balancer_dns_name" {
  description = "DNS name of the internet-facing load balancer."
  value       = aws_lb.public.dns_name
}
