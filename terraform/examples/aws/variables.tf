# Identifiers of what this example does not create (the VPC, its subnets, the EKS cluster and its
# IAM role, the TLS certificate). terraform.tfvars holds realistic placeholders.
# Values that Gatehouse's policies check are literals or variable defaults, never tfvars: the
# static scan of the .tf sources reads defaults, not terraform.tfvars.

variable "vpc_id" {
  description = "VPC of the cluster, the database and the load balancer."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC: the database accepts connections from it, the load balancer forwards to it."
  type        = string
  default     = "10.20.0.0/16"
}

variable "private_subnet_ids" {
  description = "Private subnets of the nodes, one per availability zone."
  type        = list(string)
}

variable "public_subnet_ids" {
  description = "Public subnets of the internet-facing load balancer, one per availability zone."
  type        = list(string)
}

variable "database_subnet_ids" {
  description = "Isolated subnets of the database, at least two availability zones."
  type        = list(string)
}

variable "cluster_name" {
  description = "Name of the existing EKS cluster the node group joins."
  type        = string
}

variable "node_role_arn" {
  description = "IAM role of the worker nodes (AmazonEKSWorkerNodePolicy, AmazonEKS_CNI_Policy, AmazonEC2ContainerRegistryReadOnly)."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate of the HTTPS listener."
  type        = string
}
