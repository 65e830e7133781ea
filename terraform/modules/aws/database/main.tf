# RDS for PostgreSQL behind the provider-neutral `database` interface.
#
# - primary: Multi-AZ (synchronous standby with automatic failover), encrypted, private, automated
#   backups kept `backup_retention_days` with point-in-time recovery, password managed by RDS in
#   Secrets Manager unless the pipeline passes one;
# - `read_replicas` read replicas of the primary (`replicate_source_db`), with the same
#   guarantees: with the default settings the data lives on three instances or more;
# - a security group that admits `allowed_cidrs` on the PostgreSQL port only.
#
# Every attribute Gatehouse's policies check (multi_az, storage_encrypted, publicly_accessible,
# backup_retention_period, password, manage_master_user_password, replicate_source_db, the
# security group's ingress) is a literal, a variable or a direct reference, so that
# `policy-scan` resolves it from the .tf sources without a plan.

locals {
  port = 5432

  tags = merge(var.tags, {
    environment = var.environment
    component   = "database"
    managed-by  = "terraform"
  })
}

# The VPC of the DB subnet group, for the security group. Read only when a security group is
# needed; when `network_id` comes from a subnet group created in the same run, the read waits
# for the apply.
data "aws_db_subnet_group" "this" {
  count = length(var.allowed_cidrs) > 0 ? 1 : 0

  name = var.network_id
}

resource "aws_security_group" "this" {
  count = length(var.allowed_cidrs) > 0 ? 1 : 0

  name_prefix = "${var.name}-db-"
  description = "PostgreSQL clients of ${var.name}"
  vpc_id      = data.aws_db_subnet_group.this[0].vpc_id

  # No egress rule: the instances only answer connections.
  revoke_rules_on_delete = true

  tags = merge(local.tags, { Name = "${var.name}-db" })

  lifecycle {
    create_before_destroy = true
  }
}

# One rule for all the CIDRs (aws_security_group_rule takes a list), so that the checked
# `cidr_blocks` is the variable itself; aws_vpc_security_group_ingress_rule would need a
# for_each over a converted list, which a static scan cannot resolve.
resource "aws_security_group_rule" "postgresql" {
  count = length(var.allowed_cidrs) > 0 ? 1 : 0

  security_group_id = aws_security_group.this[0].id
  description       = "PostgreSQL from the allowed networks"
  type              = "ingress"
  protocol          = "tcp"
  from_port         = local.port
  to_port           = local.port
  cidr_blocks       = var.allowed_cidrs
}

resource "aws_db_instance" "this" {
  identifier = var.name

  engine                     = "postgres"
  engine_version             = var.engine_version
  auto_minor_version_upgrade = true
  instance_class             = var.instance_size

  storage_type          = "gp3"
  allocated_storage     = 100
  max_allocated_storage = 1000
  storage_encrypted     = true

  username                    = var.admin_username
  password                    = var.admin_password
  manage_master_user_password = var.admin_password == null ? true : null

  port                   = local.port
  db_subnet_group_name   = var.network_id
  vpc_security_group_ids = aws_security_group.this[*].id
  publicly_accessible    = false
  multi_az               = var.high_availability

  backup_retention_period   = var.backup_retention_days
  backup_window             = "01:00-02:00"
  maintenance_window        = "sun:02:30-sun:03:30"
  copy_tags_to_snapshot     = true
  delete_automated_backups  = false
  deletion_protection       = var.environment == "production"
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-final"

  iam_database_authentication_enabled = true
  performance_insights_enabled        = true
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]
  apply_immediately                   = false

  tags = local.tags

  lifecycle {
    precondition {
      condition     = var.backup_retention_days <= 35
      error_message = "RDS keeps automated backups 35 days at most: backup_retention_days must be 30 to 35 on AWS."
    }

    precondition {
      condition     = can(regex("^[a-z][a-z0-9-]{0,51}$", var.name)) && !endswith(var.name, "-") && !strcontains(var.name, "--")
      error_message = "name must be an RDS identifier: lowercase letters, digits and single hyphens, starting with a letter, at most 52 characters (replicas add \"-replica-<n>\")."
    }

    precondition {
      condition     = var.admin_password == null || try(length(var.admin_password) <= 128 && !can(regex("[/\"@ ]", var.admin_password)), false)
      error_message = "admin_password must be at most 128 characters, without '/', '\"', '@' or spaces (RDS refuses them)."
    }
  }
}

# Read replicas in the same region: storage encryption, subnet group and engine version follow
# the primary. RDS for PostgreSQL 14.1 and later keeps automated backups of a replica too.
resource "aws_db_instance" "replica" {
  count = var.read_replicas

  identifier          = "${var.name}-replica-${count.index + 1}"
  replicate_source_db = aws_db_instance.this.identifier

  instance_class             = var.instance_size
  auto_minor_version_upgrade = true
  storage_type               = "gp3"
  max_allocated_storage      = 1000
  storage_encrypted          = true

  port                   = local.port
  vpc_security_group_ids = aws_security_group.this[*].id
  publicly_accessible    = false
  multi_az               = var.high_availability

  backup_retention_period  = var.backup_retention_days
  backup_window            = "01:00-02:00"
  maintenance_window       = "sun:03:30-sun:04:30"
  copy_tags_to_snapshot    = true
  delete_automated_backups = false
  # A replica holds no data of its own: it can be removed when read_replicas goes down.
  deletion_protection = false
  # RDS takes no final snapshot of a read replica.
  skip_final_snapshot = true

  iam_database_authentication_enabled = true
  performance_insights_enabled        = true
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]
  apply_immediately                   = false

  tags = merge(local.tags, { replica-of = var.name })
}
