# An HA pair, but the replica count is 0: two copies of the data, not three.
variable "read_replicas" {
  type    = number
  default = 0
}

resource "scaleway_rdb_instance" "main" {
  name          = "prod-main"
  node_type     = "DB-PRO2-XS"
  engine        = "PostgreSQL-16"
  is_ha_cluster = true
  user_name     = "gatehouse_admin"
  password      = var.db_admin_password

  private_network {
    pn_id       = scaleway_vpc_private_network.data.id
    enable_ipam = true
  }
}

resource "scaleway_rdb_read_replica" "main" {
  count = var.read_replicas

  instance_id = scaleway_rdb_instance.main.id
  same_zone   = false

  private_network {
    private_network_id = scaleway_vpc_private_network.data.id
    enable_ipam        = true
  }
}
