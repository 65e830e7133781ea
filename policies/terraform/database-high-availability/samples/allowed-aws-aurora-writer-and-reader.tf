resource "aws_rds_cluster" "main" {
  cluster_identifier          = "prod-main"
  engine                      = "aurora-postgresql"
  engine_version              = "16.4"
  master_username             = "gatehouse_admin"
  manage_master_user_password = true
  db_subnet_group_name        = "prod-data"
  storage_encrypted           = true
  backup_retention_period     = 30
  preferred_backup_window     = "01:00-02:00"
}

resource "aws_rds_cluster_instance" "main" {
  count = 2

  identifier          = "prod-main-${count.index}"
  cluster_identifier  = aws_rds_cluster.main.id
  instance_class      = "db.r6g.large"
  engine              = aws_rds_cluster.main.engine
  publicly_accessible = false
}
