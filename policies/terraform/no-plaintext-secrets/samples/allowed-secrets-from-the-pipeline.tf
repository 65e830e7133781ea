# Secrets come from the pipeline (sensitive variables without default, TF_VAR_...) or are
# generated and kept by the provider.
variable "db_admin_password" {
  description = "Administrator password of the Scaleway database (TF_VAR_db_admin_password)."
  type        = string
  sensitive   = true
}

variable "grafana_admin_password" {
  description = "Grafana's admin password (TF_VAR_grafana_admin_password)."
  type        = string
  sensitive   = true
}

resource "scaleway_rdb_instance" "main" {
  name          = "prod-main"
  node_type     = "DB-PRO2-XS"
  engine        = "PostgreSQL-16"
  is_ha_cluster = true
  user_name     = "gatehouse_admin"
  password      = var.db_admin_password
}

resource "scaleway_secret" "grafana" {
  name = "grafana-admin"
  path = "/observability"
}

resource "scaleway_secret_version" "grafana" {
  secret_id   = scaleway_secret.grafana.id
  data        = var.grafana_admin_password
  description = "Grafana admin password, set by the pipeline"
}

resource "aws_db_instance" "main" {
  identifier                  = "prod-main"
  engine                      = "postgres"
  instance_class              = "db.m6g.large"
  allocated_storage           = 100
  username                    = "gatehouse_admin"
  manage_master_user_password = true
  kms_key_id                  = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
}

resource "aws_instance" "bastion" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  key_name      = "platform-bastion"

  metadata_options {
    http_tokens = "required"
  }
}

resource "helm_release" "grafana" {
  name       = "grafana"
  repository = "https://grafana.github.io/helm-charts"
  chart      = "grafana"
  namespace  = "observability"

  set {
    name  = "admin.existingSecret"
    value = "grafana-admin"
  }

  set_sensitive {
    name  = "adminPassword"
    value = var.grafana_admin_password
  }
}
