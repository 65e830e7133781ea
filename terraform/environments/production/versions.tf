terraform {
  required_version = ">= 1.11.0"

  required_providers {
    scaleway = {
      source  = "scaleway/scaleway"
      version = "~> 2.50"
    }
    helm = {
      source  = "hashicorp/helm"
      version = ">= 3.0.0, < 4.0.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.25.0, < 3.0.0"
    }
  }

  # State in Scaleway Object Storage through the S3 backend. Credentials come from the
  # pipeline's environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY set to a Scaleway API key);
  # the bucket is created once, outside this configuration, versioned and private.
  backend "s3" {
    bucket = "gatehouse-terraform-state"
    key    = "environments/production/terraform.tfstate"
    region = "fr-par"

    endpoints = {
      s3 = "https://s3.fr-par.scw.cloud"
    }

    skip_credentials_validation = true
    skip_region_validation      = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    skip_s3_checksum            = true
    use_path_style              = true
  }
}
