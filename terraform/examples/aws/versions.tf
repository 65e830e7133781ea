terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 6.0"
    }
  }
}

# Credentials come from the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the CI/CD
# pipeline's role), never from this file. The skip_* settings let `terraform plan` run with
# placeholder credentials and no AWS account: scripts/terraform-plan-fixtures plans this example
# that way.
provider "aws" {
  region = "eu-west-3"

  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true

  default_tags {
    tags = {
      project     = "gatehouse"
      environment = "production"
    }
  }
}
