# EKS with the default public endpoint: open to 0.0.0.0/0.
resource "aws_eks_cluster" "production" {
  name     = "gatehouse-production"
  role_arn = "arn:aws:iam::111122223333:role/gatehouse-production-eks"
  version  = "1.31"

  vpc_config {
    subnet_ids = ["subnet-0a11b22c33d44e551", "subnet-0a11b22c33d44e552", "subnet-0a11b22c33d44e553"]
  }
}
