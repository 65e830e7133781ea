terraform {
  required_version = ">= 1.5.0"

  required_providers {
    # Only attributes common to the 2.x and 3.x helm providers are used (no `set` blocks, which
    # 3.x turned into a list attribute): values are passed as YAML documents.
    helm = {
      source  = "hashicorp/helm"
      version = ">= 2.12.0, < 4.0.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.25.0, < 3.0.0"
    }
  }
}
