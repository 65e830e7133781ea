# The billing database and its exports bucket, as they were set up before the platform existed.

variable "billing_password" {
  description = "Set by the pipeline (TF_VAR_billing_password)."
  type        = string
  sensitive   = true
}

resource "aws_db_instance" "billing" {
  identifier              = "billing"
  engine                  = "postgres"
  engine_version          = "16.4"
  instance_class          = "db.t4g.medium"
  allocated_storage       = 50
  username                = "billing"
  password                = var.billing_password
  multi_az                = false
  backup_retention_period = 7
  storage_encrypted       = false
  publicly_accessible     = true
}

resource "aws_s3_bucket" "billing_backups" {
  bucket = "billing-backups"
}
