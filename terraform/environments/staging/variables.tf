# Names, network ranges, node types and versions come from terraform.tfvars. What a Gatehouse
# policy checks (cluster type, pool sizes, database availability and backups, bucket retention)
# is written in main.tf, next to the module it configures, so that a change to it shows there.

variable "region" {
  description = "Scaleway region of the environment."
  type        = string
}

variable "zone" {
  description = "Availability zone of the node pools and the Public Gateway."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of the environment's resource names (cluster, network, buckets, IAM groups)."
  type        = string
}

variable "private_network_cidr" {
  description = "IPv4 CIDR of the environment's Private Network."
  type        = string
}

variable "public_gateway_type" {
  description = "Commercial type of the Public Gateway (the nodes' egress)."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the cluster (patches come from auto-upgrade)."
  type        = string
}

variable "maintenance_window_day" {
  description = "Day of the cluster's auto-upgrade maintenance window."
  type        = string
}

variable "maintenance_window_start_hour" {
  description = "Start hour (UTC) of the cluster's auto-upgrade maintenance window."
  type        = number
}

variable "system_pool_node_type" {
  description = "Node type of the system pool."
  type        = string
}

variable "application_pool_node_type" {
  description = "Node type of the application pool (the always-on tier)."
  type        = string
}

variable "burst_pool_node_type" {
  description = "Node type of the burst pool (the larger scale-up tier)."
  type        = string
}

variable "stateful_pool_node_type" {
  description = "Node type of the tainted stateful pool."
  type        = string
}

variable "database_instance_size" {
  description = "Node type of the managed PostgreSQL instance."
  type        = string
}

variable "database_engine_version" {
  description = "PostgreSQL major version."
  type        = string
}

variable "alert_contact_emails" {
  description = "Addresses Cockpit notifies for Scaleway's managed alerts."
  type        = list(string)
}

# Secrets: sensitive, without defaults, given by the pipeline as TF_VAR_<name> from its secret
# store. The Scaleway provider reads its own credentials from SCW_ACCESS_KEY, SCW_SECRET_KEY,
# SCW_DEFAULT_ORGANIZATION_ID and SCW_DEFAULT_PROJECT_ID.

variable "database_admin_password" {
  description = "Password of the database administrator user (TF_VAR_database_admin_password)."
  type        = string
  sensitive   = true
}

variable "bootstrap_secrets" {
  description = "Secrets the add-ons need before External Secrets runs (grafana-admin, alertmanager-receivers...), as { id = { namespace, name, data } } (TF_VAR_bootstrap_secrets; \"{}\" when there are none). loki-s3 and tempo-s3 are added from the observability module."
  type = map(object({
    namespace = string
    name      = string
    data      = map(string)
  }))
  sensitive = true
}
