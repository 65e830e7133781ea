locals {
  # Scaleway tags are "key=value" strings.
  tags = concat(
    ["environment=${var.environment}", "database=${var.name}", "managed-by=terraform"],
    [for key, value in var.tags : "${key}=${value}"],
  )
}

resource "scaleway_rdb_instance" "this" {
  name          = var.name
  node_type     = var.instance_size
  engine        = "PostgreSQL-${var.engine_version}"
  is_ha_cluster = var.high_availability
  user_name     = var.admin_username
  password      = var.admin_password
  tags          = local.tags

  encryption_at_rest = true

  disable_backup            = false
  backup_schedule_frequency = var.backup_frequency_hours
  backup_schedule_retention = var.backup_retention_days
  # Backups are stored in another region than the instance, so that a regional outage does
  # not take them too.
  backup_same_region = false

  # The Private Network endpoint is the only one: no load_balancer block, no public endpoint.
  private_network {
    pn_id       = var.network_id
    enable_ipam = true
  }

  lifecycle {
    precondition {
      condition     = var.admin_password != null
      error_message = "Scaleway Managed Database does not generate the administrator password: pass admin_password from the pipeline's secret store (TF_VAR_...)."
    }
  }
}

# One replica is always declared on its own, so that a static reading of the configuration sees
# it; the others follow read_replicas.
resource "scaleway_rdb_read_replica" "this" {
  instance_id = scaleway_rdb_instance.this.id
  same_zone   = false

  private_network {
    private_network_id = var.network_id
    enable_ipam        = true
  }
}

resource "scaleway_rdb_read_replica" "additional" {
  count = var.read_replicas - 1

  instance_id = scaleway_rdb_instance.this.id
  same_zone   = false

  private_network {
    private_network_id = var.network_id
    enable_ipam        = true
  }
}

resource "scaleway_rdb_acl" "this" {
  count = length(var.allowed_cidrs) > 0 ? 1 : 0

  instance_id = scaleway_rdb_instance.this.id

  dynamic "acl_rules" {
    for_each = var.allowed_cidrs

    content {
      ip          = acl_rules.value
      description = "Allowed network"
    }
  }
}
