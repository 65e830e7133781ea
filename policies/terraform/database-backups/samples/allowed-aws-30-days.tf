resource "aws_db_instance" "main" {
  identifier                  = "prod-main"
  engine                      = "postgres"
  engine_version              = "16"
  instance_class              = "db.m6g.large"
  allocated_storage           = 100
  storage_encrypted           = true
  username                    = "gatehouse_admin"
  manage_master_user_password = true
  db_subnet_group_name        = "prod-data"
  multi_az                    = true

  backup_retention_period  = 30
  backup_window            = "01:00-02:00"
  delete_automated_backups = false
  copy_tags_to_snapshot    = true
}

resource "aws_rds_cluster" "analytics" {
  cluster_identifier          = "prod-analytics"
  engine                      = "aurora-postgresql"
  master_username             = "gatehouse_admin"
  manage_master_user_password = true
  storage_encrypted           = true
  backup_retention_period     = 35
  preferred_backup_window     = "02:00-03:00"
}
