output "cluster_id" {
  description = "ID of the Kapsule cluster."
  value       = module.cluster.cluster_id
}

output "apiserver_url" {
  description = "URL of the Kubernetes API server."
  value       = module.cluster.apiserver_url
}

output "iam_authentication" {
  description = "Cluster ID, region, Project and the scw command that writes a kubeconfig authenticated by the caller's own IAM key."
  value       = module.cluster.iam_authentication
}

output "node_pools" {
  description = "IDs of the node pools, by role."
  value       = module.cluster.pool_ids
}

output "stateful_scheduling" {
  description = "nodeSelector and toleration that place a stateful workload on the stateful pool."
  value = {
    node_selector = module.cluster.stateful_node_selector
    toleration    = module.cluster.stateful_toleration
  }
}

output "egress_ip" {
  description = "Public IP the cluster's outbound traffic leaves from."
  value       = module.network.egress_ip
}

output "database" {
  description = "Private endpoints of the managed PostgreSQL primary and its read replicas, and the administrator user."
  value = {
    endpoint          = module.database.endpoint
    port              = module.database.port
    replica_endpoints = module.database.replica_endpoints
    admin_username    = module.database.admin_username
  }
}

output "backup_buckets" {
  description = "Backup bucket names, by key."
  value       = module.storage.bucket_names
}

output "observability_buckets" {
  description = "Loki and Tempo bucket names, by key."
  value       = module.observability.bucket_names
}

output "iam_groups" {
  description = "The environment's IAM groups: role, ID, the Kubernetes group their members carry and the platform-baseline rbac entry they fill."
  value       = module.iam.group_mapping
}

output "cluster_admin_allowed_subjects" {
  description = "allowedSubjects for the Gatehouse policy restrict-cluster-admin-bindings in this cluster."
  value       = module.iam.cluster_admin_allowed_subjects
}

output "alert_manager_url" {
  description = "URL of Cockpit's alert manager for the environment's Project."
  value       = module.observability.alert_manager_url
}

output "addons" {
  description = "The add-on releases installed, with their status."
  value       = module.platform_addons.addons
}
