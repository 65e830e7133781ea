# Non-secret settings of staging: the same architecture as production, on smaller nodes. Secrets
# come from the pipeline (TF_VAR_database_admin_password, TF_VAR_bootstrap_secrets); provider
# credentials from SCW_* variables.

region      = "fr-par"
zone        = "fr-par-1"
name_prefix = "gatehouse-staging"

private_network_cidr = "172.16.8.0/22"
public_gateway_type  = "VPC-GW-S"

kubernetes_version            = "1.31"
maintenance_window_day        = "tuesday"
maintenance_window_start_hour = 3

system_pool_node_type      = "POP2-2C-8G"
application_pool_node_type = "POP2-2C-8G"
burst_pool_node_type       = "POP2-8C-32G"
stateful_pool_node_type    = "POP2-HM-2C-16G"

database_instance_size  = "DB-PRO2-XXS"
database_engine_version = "16"

alert_contact_emails = ["platform-oncall@example.com"]
