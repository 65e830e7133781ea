output "cluster_id" {
  description = "ID of the cluster ({region}/{id})."
  value       = scaleway_k8s_cluster.this.id
}

output "cluster_name" {
  description = "Name of the cluster."
  value       = scaleway_k8s_cluster.this.name
}

output "project_id" {
  description = "ID of the Scaleway Project of the cluster: the scope of the IAM policies that let groups authenticate to it."
  value       = scaleway_k8s_cluster.this.project_id
}

output "region" {
  description = "Region of the cluster."
  value       = scaleway_k8s_cluster.this.region
}

output "apiserver_url" {
  description = "URL of the Kubernetes API server."
  value       = scaleway_k8s_cluster.this.apiserver_url
}

output "wildcard_dns" {
  description = "DNS wildcard that resolves to the cluster's ready nodes."
  value       = scaleway_k8s_cluster.this.wildcard_dns
}

# The kubeconfig is readable as soon as the cluster exists, but the API server's DNS name only
# answers once a pool is up: the outputs wait for the pools, so that the helm and kubernetes
# providers configured from them start after the nodes.

output "kubeconfig_host" {
  description = "API server URL from the kubeconfig, for the kubernetes and helm providers."
  value       = scaleway_k8s_cluster.this.kubeconfig[0].host
  sensitive   = true

  depends_on = [scaleway_k8s_pool.system, scaleway_k8s_pool.application, scaleway_k8s_pool.burst, scaleway_k8s_pool.stateful]
}

output "kubeconfig_token" {
  description = "Token of the kubeconfig (the credentials of the caller that ran Terraform), for the kubernetes and helm providers."
  value       = scaleway_k8s_cluster.this.kubeconfig[0].token
  sensitive   = true

  depends_on = [scaleway_k8s_pool.system, scaleway_k8s_pool.application, scaleway_k8s_pool.burst, scaleway_k8s_pool.stateful]
}

output "kubeconfig_cluster_ca_certificate" {
  description = "Base64-encoded CA certificate of the API server (pass it through base64decode to the providers)."
  value       = scaleway_k8s_cluster.this.kubeconfig[0].cluster_ca_certificate
  sensitive   = true

  depends_on = [scaleway_k8s_pool.system, scaleway_k8s_pool.application, scaleway_k8s_pool.burst, scaleway_k8s_pool.stateful]
}

output "pool_ids" {
  description = "IDs of the node pools, by role: system, application, burst, stateful."
  value = {
    system      = scaleway_k8s_pool.system.id
    application = scaleway_k8s_pool.application.id
    burst       = scaleway_k8s_pool.burst.id
    stateful    = scaleway_k8s_pool.stateful.id
  }
}

output "stateful_node_selector" {
  description = "Node label of the stateful pool's nodes, for the nodeSelector (or node affinity) of stateful workloads."
  value = {
    "k8s.scaleway.com/${var.stateful_taint.key}" = var.stateful_taint.value
  }
}

output "stateful_toleration" {
  description = "Toleration stateful workloads need to run on the stateful pool's tainted nodes."
  value = {
    key      = "k8s.scaleway.com/${var.stateful_taint.key}"
    operator = "Equal"
    value    = var.stateful_taint.value
    effect   = var.stateful_taint.effect
  }
}

output "iam_authentication" {
  description = "What people and pipelines need to authenticate to the cluster with Scaleway IAM: cluster ID, region, Project (the scope their IAM policy must cover) and the CLI command that writes a kubeconfig using their own IAM API key."
  value = {
    cluster_id         = scaleway_k8s_cluster.this.id
    region             = scaleway_k8s_cluster.this.region
    project_id         = scaleway_k8s_cluster.this.project_id
    kubeconfig_command = "scw k8s kubeconfig install ${element(split("/", scaleway_k8s_cluster.this.id), 1)} region=${scaleway_k8s_cluster.this.region}"
  }
}
