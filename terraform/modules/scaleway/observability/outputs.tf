locals {
  s3_endpoint = "s3.${var.region}.scw.cloud"

  s3_credentials = {
    S3_ENDPOINT          = local.s3_endpoint
    S3_REGION            = var.region
    S3_ACCESS_KEY_ID     = scaleway_iam_api_key.telemetry.access_key
    S3_SECRET_ACCESS_KEY = scaleway_iam_api_key.telemetry.secret_key
  }
}

output "s3_endpoint" {
  description = "S3 endpoint host of the region (no scheme), as Loki's and Tempo's s3 endpoint settings take it."
  value       = local.s3_endpoint
}

output "s3_region" {
  description = "S3 region of the buckets."
  value       = var.region
}

output "bucket_names" {
  description = "Names of the observability buckets, by key: loki-chunks, loki-ruler, loki-admin, tempo-traces."
  value       = module.buckets.bucket_names
}

output "bucket_endpoints" {
  description = "Endpoint URLs of the observability buckets, by key."
  value       = module.buckets.bucket_endpoints
}

output "access_key_id" {
  description = "Access key of the telemetry writer's API key."
  value       = scaleway_iam_api_key.telemetry.access_key
}

output "loki_s3_env" {
  description = "Content of the loki-s3 Secret (observability namespace) that charts/addons/loki/values.yaml reads its environment from."
  sensitive   = true
  value = merge(local.s3_credentials, {
    LOKI_CHUNKS_BUCKET = module.buckets.bucket_names["loki-chunks"]
    LOKI_RULER_BUCKET  = module.buckets.bucket_names["loki-ruler"]
    LOKI_ADMIN_BUCKET  = module.buckets.bucket_names["loki-admin"]
  })
}

output "tempo_s3_env" {
  description = "Content of the tempo-s3 Secret (observability namespace) that charts/addons/tempo/values.yaml reads its environment from."
  sensitive   = true
  value = merge(local.s3_credentials, {
    TEMPO_BUCKET = module.buckets.bucket_names["tempo-traces"]
  })
}

output "alert_manager_url" {
  description = "URL of Cockpit's alert manager for the environment's Project."
  value       = scaleway_cockpit_alert_manager.this.alert_manager_url
}
