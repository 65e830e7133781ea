# Offline checks of the module's contract: `terraform test` with a mocked AWS provider (no
# credentials, nothing created). Run by scripts/terraform-plan-fixtures.

mock_provider "aws" {}

variables {
  name_prefix = "acme-gatehouse-staging"
  environment = "staging"
  buckets = {
    postgres = { purpose = "backups" }
    audit    = { purpose = "logs", retention_days = 45 }
    uploads  = { purpose = "data" }
  }
}

run "every_bucket_is_versioned_private_encrypted_and_expiring" {
  command = plan

  assert {
    condition     = aws_s3_bucket.this["postgres"].bucket == "acme-gatehouse-staging-backups-postgres"
    error_message = "Buckets are named <name_prefix>-<purpose>-<key>."
  }

  assert {
    condition     = alltrue([for v in aws_s3_bucket_versioning.this : v.versioning_configuration[0].status == "Enabled"])
    error_message = "Every bucket is versioned."
  }

  assert {
    condition = alltrue([
      for b in aws_s3_bucket_public_access_block.this :
      b.block_public_acls && b.block_public_policy && b.ignore_public_acls && b.restrict_public_buckets
    ])
    error_message = "Every bucket blocks public access."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this["audit"].rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "Log buckets use SSE-S3."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this["postgres"].rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "Other buckets use SSE-KMS."
  }
}

run "lifecycle_keeps_30_days_and_archives_a_year" {
  command = plan

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this["postgres"].rule[0].noncurrent_version_expiration[0].noncurrent_days == 30
    error_message = "Noncurrent versions expire after 30 days by default."
  }

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this["audit"].rule[0].noncurrent_version_expiration[0].noncurrent_days == 45
    error_message = "retention_days sets the noncurrent expiration."
  }

  assert {
    condition = (
      aws_s3_bucket_lifecycle_configuration.this["postgres"].rule[1].status == "Enabled" &&
      one(aws_s3_bucket_lifecycle_configuration.this["postgres"].rule[1].transition).storage_class == "GLACIER" &&
      one(aws_s3_bucket_lifecycle_configuration.this["postgres"].rule[1].transition).days == 30 &&
      aws_s3_bucket_lifecycle_configuration.this["postgres"].rule[1].expiration[0].days == 365
    )
    error_message = "Backups move to GLACIER at 30 days and expire at 365."
  }

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this["uploads"].rule[1].status == "Disabled"
    error_message = "Current objects of data buckets are never archived nor expired."
  }
}

run "outputs_by_key" {
  command = plan

  assert {
    condition     = output.bucket_names == { postgres = "acme-gatehouse-staging-backups-postgres", audit = "acme-gatehouse-staging-logs-audit", uploads = "acme-gatehouse-staging-data-uploads" }
    error_message = "bucket_names maps keys to bucket names."
  }
}

run "unknown_purpose_is_refused" {
  command = plan

  variables {
    buckets = { scratch = { purpose = "tmp" } }
  }

  expect_failures = [var.buckets]
}

run "archive_must_outlive_the_transition" {
  command = plan

  variables {
    buckets = { postgres = { purpose = "backups", archive_after_days = 400 } }
  }

  expect_failures = [var.buckets]
}

run "short_retention_is_refused" {
  command = plan

  variables {
    buckets = { postgres = { purpose = "backups", retention_days = 7 } }
  }

  expect_failures = [var.buckets]
}

run "invalid_name_prefix_is_refused" {
  command = plan

  variables {
    name_prefix = "Acme_Gatehouse"
  }

  expect_failures = [var.name_prefix]
}

run "bucket_names_longer_than_s3_allows_are_refused" {
  command = plan

  variables {
    name_prefix = "acme-gatehouse-production-eu-west-3-main"
    buckets     = { postgres-archive = { purpose = "backups" } }
  }

  expect_failures = [aws_s3_bucket.this]
}
