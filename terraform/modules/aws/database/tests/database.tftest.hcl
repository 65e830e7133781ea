# Offline checks of the module's contract: `terraform test` with a mocked AWS provider (no
# credentials, nothing created). Run by scripts/terraform-plan-fixtures.

mock_provider "aws" {
  mock_data "aws_db_subnet_group" {
    defaults = {
      vpc_id = "vpc-0a1b2c3d4e5f60718"
    }
  }
}

variables {
  name           = "gatehouse-staging"
  environment    = "staging"
  engine_version = "16"
  instance_size  = "db.t4g.large"
  network_id     = "gatehouse-staging-database"
}

run "defaults_are_highly_available_and_private" {
  command = plan

  assert {
    condition     = aws_db_instance.this.multi_az && aws_db_instance.this.storage_encrypted && !aws_db_instance.this.publicly_accessible
    error_message = "The primary must be Multi-AZ, encrypted and private."
  }

  assert {
    condition     = aws_db_instance.this.backup_retention_period == 30
    error_message = "Backups must be kept 30 days by default."
  }

  assert {
    condition     = length(aws_db_instance.replica) == 1 && aws_db_instance.replica[0].replicate_source_db == "gatehouse-staging"
    error_message = "One read replica of the primary by default."
  }

  assert {
    condition     = aws_db_instance.this.password == null
    error_message = "No password is set when admin_password is null."
  }

  assert {
    condition     = length(aws_security_group.this) == 0
    error_message = "No security group without allowed_cidrs."
  }

  assert {
    condition     = !aws_db_instance.this.deletion_protection
    error_message = "Deletion protection is for production only."
  }
}

run "allowed_cidrs_open_postgresql_only" {
  command = plan

  variables {
    environment   = "production"
    read_replicas = 2
    allowed_cidrs = ["10.20.0.0/16", "10.30.0.0/16"]
  }

  assert {
    condition     = aws_security_group_rule.postgresql[0].from_port == 5432 && aws_security_group_rule.postgresql[0].to_port == 5432
    error_message = "The security group opens the PostgreSQL port only."
  }

  assert {
    condition     = aws_security_group_rule.postgresql[0].cidr_blocks == tolist(["10.20.0.0/16", "10.30.0.0/16"])
    error_message = "The security group admits allowed_cidrs."
  }

  assert {
    condition     = aws_security_group.this[0].vpc_id == "vpc-0a1b2c3d4e5f60718"
    error_message = "The security group is in the subnet group's VPC."
  }

  assert {
    condition     = length(aws_db_instance.replica) == 2 && aws_db_instance.replica[1].identifier == "gatehouse-staging-replica-2"
    error_message = "read_replicas replicas, numbered from 1."
  }

  assert {
    condition     = aws_db_instance.this.deletion_protection
    error_message = "Production turns deletion protection on."
  }
}

run "a_password_from_the_pipeline_disables_the_managed_password" {
  command = plan

  variables {
    admin_password = "placeholder-from-the-pipeline"
  }

  assert {
    condition     = aws_db_instance.this.manage_master_user_password == null
    error_message = "manage_master_user_password must be unset when a password is given."
  }
}

run "the_world_is_refused" {
  command = plan

  variables {
    allowed_cidrs = ["0.0.0.0/0"]
  }

  expect_failures = [var.allowed_cidrs]
}

run "ipv6_is_refused" {
  command = plan

  variables {
    allowed_cidrs = ["::/0"]
  }

  expect_failures = [var.allowed_cidrs]
}

run "single_az_is_refused" {
  command = plan

  variables {
    high_availability = false
  }

  expect_failures = [var.high_availability]
}

run "a_password_rds_refuses_is_caught_at_plan" {
  command = plan

  variables {
    admin_password = "placeholder@from-the-pipeline"
  }

  expect_failures = [aws_db_instance.this]
}

run "an_identifier_rds_refuses_is_caught_at_plan" {
  command = plan

  variables {
    name = "1-gatehouse"
  }

  expect_failures = [aws_db_instance.this]
}

run "no_replica_is_refused" {
  command = plan

  variables {
    read_replicas = 0
  }

  expect_failures = [var.read_replicas]
}

run "short_retention_is_refused" {
  command = plan

  variables {
    backup_retention_days = 7
  }

  expect_failures = [var.backup_retention_days]
}

run "retention_beyond_the_rds_limit_is_refused" {
  command = plan

  variables {
    backup_retention_days = 90
  }

  expect_failures = [aws_db_instance.this]
}

run "backup_frequency_is_bounded" {
  command = plan

  variables {
    backup_frequency_hours = 48
  }

  expect_failures = [var.backup_frequency_hours]
}

run "environment_is_validated" {
  command = plan

  variables {
    environment = "dev"
  }

  expect_failures = [var.environment]
}
