provider "scaleway" {
  region = var.region
  zone   = var.zone
}

provider "kubernetes" {
  host                   = module.cluster.kubeconfig_host
  token                  = module.cluster.kubeconfig_token
  cluster_ca_certificate = base64decode(module.cluster.kubeconfig_cluster_ca_certificate)
}

provider "helm" {
  kubernetes = {
    host                   = module.cluster.kubeconfig_host
    token                  = module.cluster.kubeconfig_token
    cluster_ca_certificate = base64decode(module.cluster.kubeconfig_cluster_ca_certificate)
  }
}

locals {
  environment = "staging"

  # Scaleway tags are "key=value" strings (object storage buckets take a map).
  tags     = ["environment=staging", "platform=gatehouse", "managed-by=terraform"]
  tags_map = { environment = "staging", platform = "gatehouse", "managed-by" = "terraform" }
}

module "network" {
  source = "../../modules/scaleway/network"

  name                = var.name_prefix
  region              = var.region
  zone                = var.zone
  ipv4_subnet         = var.private_network_cidr
  public_gateway_type = var.public_gateway_type
  tags                = local.tags
}

module "cluster" {
  source = "../../modules/scaleway/cluster"

  name               = var.name_prefix
  environment        = local.environment
  type               = "kapsule" # mutualised control plane: production alone needs a dedicated one
  kubernetes_version = var.kubernetes_version
  region             = var.region
  zone               = var.zone
  private_network_id = module.network.private_network_id
  tags               = local.tags

  maintenance_window_day        = var.maintenance_window_day
  maintenance_window_start_hour = var.maintenance_window_start_hour

  # Tiered scaling: always-on minimums, autoscaled maximums, larger nodes in the burst pool.
  system_pool_node_type      = var.system_pool_node_type
  system_pool_min_size       = 2
  system_pool_max_size       = 3
  application_pool_node_type = var.application_pool_node_type
  application_pool_min_size  = 2
  application_pool_max_size  = 5
  burst_pool_node_type       = var.burst_pool_node_type
  burst_pool_min_size        = 2
  burst_pool_max_size        = 3
  stateful_pool_node_type    = var.stateful_pool_node_type
  stateful_pool_min_size     = 2
  stateful_pool_max_size     = 3
}

module "database" {
  source = "../../modules/scaleway/database"

  name                   = "${var.name_prefix}-postgres"
  environment            = local.environment
  engine_version         = var.database_engine_version
  instance_size          = var.database_instance_size
  high_availability      = true
  read_replicas          = 1
  backup_frequency_hours = 24
  backup_retention_days  = 30
  network_id             = module.network.private_network_id
  allowed_cidrs          = []
  admin_username         = "gatehouse_admin"
  admin_password         = var.database_admin_password
  tags                   = local.tags_map
}

module "storage" {
  source = "../../modules/scaleway/storage"

  name_prefix = var.name_prefix
  environment = local.environment
  tags        = local.tags_map

  buckets = {
    postgres = {
      purpose                = "backups"
      retention_days         = 30
      archive_after_days     = 30
      archive_retention_days = 365
    }
  }
}

module "iam" {
  source = "../../modules/scaleway/iam"

  name_prefix = var.name_prefix
  environment = local.environment
  project_id  = module.cluster.project_id
  tags        = local.tags
}

module "observability" {
  source = "../../modules/scaleway/observability"

  name_prefix                = var.name_prefix
  environment                = local.environment
  project_id                 = module.cluster.project_id
  region                     = var.region
  log_retention_days         = 30
  log_archive_after_days     = 30
  log_archive_retention_days = 365
  alert_contact_emails       = var.alert_contact_emails
  tags                       = local.tags
  bucket_tags                = local.tags_map
}

module "platform_addons" {
  source = "../../modules/platform-addons"

  environment = local.environment

  # The chart's staging values, then the RBAC groups of this environment's IAM groups.
  baseline_values = [
    file("${path.module}/../../../charts/platform-baseline/ci/staging-values.yaml"),
    module.iam.baseline_rbac_values,
  ]

  bootstrap_secrets = merge(var.bootstrap_secrets, {
    loki-s3 = {
      namespace = "observability"
      name      = "loki-s3"
      data      = module.observability.loki_s3_env
    }
    tempo-s3 = {
      namespace = "observability"
      name      = "tempo-s3"
      data      = module.observability.tempo_s3_env
    }
  })

  depends_on = [module.cluster]
}
