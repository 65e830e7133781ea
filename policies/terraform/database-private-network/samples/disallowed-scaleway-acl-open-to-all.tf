resource "scaleway_rdb_acl" "main" {
  instance_id = scaleway_rdb_instance.main.id

  acl_rules {
    ip          = "0.0.0.0/0"
    description = "Temporary: debugging from home"
  }
}
