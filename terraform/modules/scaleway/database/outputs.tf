output "endpoint" {
  description = "Host name (or address) of the primary on the Private Network."
  value       = coalesce(scaleway_rdb_instance.this.private_network[0].hostname, scaleway_rdb_instance.this.private_network[0].ip)
}

output "port" {
  description = "Port of the primary on the Private Network."
  value       = scaleway_rdb_instance.this.private_network[0].port
}

output "instance_id" {
  description = "ID of the database instance ({region}/{id})."
  value       = scaleway_rdb_instance.this.id
}

output "replica_endpoints" {
  description = "Host names (or addresses) of the read replicas on the Private Network."
  value = [
    for replica in concat([scaleway_rdb_read_replica.this], scaleway_rdb_read_replica.additional) :
    coalesce(replica.private_network[0].hostname, replica.private_network[0].ip)
  ]
}

output "admin_username" {
  description = "Name of the administrator user."
  value       = scaleway_rdb_instance.this.user_name
}
