# EKS with a private API endpoint only: reached from the VPC (VPN, bastion, CI runners).
resource "aws_eks_cluster" "production" {
  name     = "gatehouse-production"
  role_arn = "arn:aws:iam::111122223333:role/gatehouse-production-eks"
  version  = "1.31"

  vpc_config {
    subnet_ids              = ["subnet-0a11b22c33d44e551", "subnet-0a11b22c33d44e552", "subnet-0a11b22c33d44e553"]
    endpoint_private_access = true
    endpoint_public_access  = false
  }
}

# A public endpoint limited to the office and the CI egress addresses is allow-listed too.
resource "aws_eks_cluster" "staging" {
  name     = "gatehouse-staging"
  role_arn = "arn:aws:iam::111122223333:role/gatehouse-staging-eks"
  version  = "1.31"

  vpc_config {
    subnet_ids              = ["subnet-0b11b22c33d44e551", "subnet-0b11b22c33d44e552"]
    endpoint_private_access = true
    endpoint_public_access  = true
    public_access_cidrs     = ["203.0.113.0/24", "198.51.100.17/32"]
  }
}
