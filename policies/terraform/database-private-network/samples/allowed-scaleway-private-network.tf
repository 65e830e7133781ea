variable "allowed_cidrs" {
  description = "Networks allowed to connect: the cluster's Private Network and the office VPN."
  type        = list(string)
  default     = ["172.16.0.0/22", "198.51.100.0/24"]
}

resource "scaleway_vpc_private_network" "data" {
  name = "prod-data"
}

resource "scaleway_rdb_instance" "main" {
  name          = "prod-main"
  node_type     = "DB-PRO2-XS"
  engine        = "PostgreSQL-16"
  is_ha_cluster = true
  user_name     = "gatehouse_admin"
  password      = var.db_admin_password

  # The Private Network endpoint is the only one: no load_balancer block.
  private_network {
    pn_id       = scaleway_vpc_private_network.data.id
    enable_ipam = true
  }
}

resource "scaleway_rdb_read_replica" "main" {
  instance_id = scaleway_rdb_instance.main.id
  same_zone   = false

  private_network {
    private_network_id = scaleway_vpc_private_network.data.id
    enable_ipam        = true
  }
}

resource "scaleway_rdb_acl" "main" {
  instance_id = scaleway_rdb_instance.main.id

  acl_rules {
    ip          = var.allowed_cidrs[0]
    description = "Kubernetes nodes"
  }

  acl_rules {
    ip          = var.allowed_cidrs[1]
    description = "Office VPN"
  }
}
