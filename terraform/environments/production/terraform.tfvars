# Non-secret settings of production. Secrets come from the pipeline (TF_VAR_database_admin_password,
# TF_VAR_bootstrap_secrets); provider credentials from SCW_* variables.

region      = "fr-par"
zone        = "fr-par-1"
name_prefix = "gatehouse-prod"

private_network_cidr = "172.16.0.0/22"
public_gateway_type  = "VPC-GW-M"

kubernetes_version            = "1.31"
maintenance_window_day        = "sunday"
maintenance_window_start_hour = 3

system_pool_node_type      = "POP2-4C-16G"
application_pool_node_type = "POP2-4C-16G"
burst_pool_node_type       = "POP2-16C-64G"
stateful_pool_node_type    = "POP2-HM-4C-32G"

database_instance_size  = "DB-PRO2-S"
database_engine_version = "16"

alert_contact_emails = ["platform-oncall@example.com"]
