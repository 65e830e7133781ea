output "vpc_id" {
  description = "ID of the VPC."
  value       = scaleway_vpc.this.id
}

output "project_id" {
  description = "ID of the Scaleway Project the network (and so the environment) lives in."
  value       = scaleway_vpc.this.project_id
}

output "private_network_id" {
  description = "ID of the Private Network, for the cluster and the database. Available once the Public Gateway is attached, so that nodes without public IPs have egress from their first boot."
  value       = scaleway_vpc_private_network.this.id

  depends_on = [scaleway_vpc_gateway_network.this]
}

output "private_network_cidr" {
  description = "IPv4 CIDR of the Private Network."
  value       = var.ipv4_subnet
}

output "public_gateway_id" {
  description = "ID of the Public Gateway."
  value       = scaleway_vpc_public_gateway.this.id
}

output "egress_ip" {
  description = "Public IPv4 address the nodes' outbound traffic leaves from (allow-list it on external services)."
  value       = scaleway_vpc_public_gateway_ip.this.address
}
