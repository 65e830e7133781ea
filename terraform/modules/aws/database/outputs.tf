output "endpoint" {
  description = "Host name of the primary (read-write) instance; with Multi-AZ it follows a failover to the standby."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "PostgreSQL port of the primary and of the replicas."
  value       = aws_db_instance.this.port
}

output "instance_id" {
  description = "Identifier of the primary RDS instance."
  value       = aws_db_instance.this.identifier
}

output "replica_endpoints" {
  description = "Host names of the read replicas, in order."
  value       = aws_db_instance.replica[*].address
}

output "admin_username" {
  description = "Name of the administrator user."
  value       = aws_db_instance.this.username
}
