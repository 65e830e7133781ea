resource "aws_kms_key" "database" {
  description         = "RDS storage of prod-main"
  enable_key_rotation = true
}

resource "aws_db_instance" "main" {
  identifier                  = "prod-main"
  engine                      = "postgres"
  instance_class              = "db.m6g.large"
  allocated_storage           = 100
  username                    = "gatehouse_admin"
  manage_master_user_password = true
  multi_az                    = true
  storage_encrypted           = true
  kms_key_id                  = aws_kms_key.database.arn
}

# The replica is encrypted with its source's key; the flag is written so that Terraform does
# not plan to replace it.
resource "aws_db_instance" "replica" {
  identifier          = "prod-main-replica-1"
  replicate_source_db = aws_db_instance.main.identifier
  instance_class      = "db.m6g.large"
  multi_az            = true
  storage_encrypted   = true
}

resource "aws_rds_cluster" "analytics" {
  cluster_identifier          = "prod-analytics"
  engine                      = "aurora-postgresql"
  master_username             = "gatehouse_admin"
  manage_master_user_password = true
  storage_encrypted           = true
  kms_key_id                  = aws_kms_key.database.arn
}
