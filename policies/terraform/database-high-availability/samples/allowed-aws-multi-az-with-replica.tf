resource "aws_db_instance" "main" {
  identifier                  = "prod-main"
  engine                      = "postgres"
  engine_version              = "16"
  instance_class              = "db.m6g.large"
  allocated_storage           = 100
  storage_type                = "gp3"
  storage_encrypted           = true
  username                    = "gatehouse_admin"
  manage_master_user_password = true
  db_subnet_group_name        = "prod-data"
  publicly_accessible         = false
  multi_az                    = true
  backup_retention_period     = 30
  skip_final_snapshot         = false
  final_snapshot_identifier   = "prod-main-final"

  tags = {
    environment = "production"
  }
}

resource "aws_db_instance" "replica" {
  identifier          = "prod-main-replica-1"
  replicate_source_db = aws_db_instance.main.identifier
  instance_class      = "db.m6g.large"
  storage_type        = "gp3"
  storage_encrypted   = true
  publicly_accessible = false
  multi_az            = true
  skip_final_snapshot = true

  tags = {
    environment = "production"
  }
}
