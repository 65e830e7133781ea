resource "aws_eks_node_group" "apps" {
  cluster_name    = "gatehouse-production"
  node_group_name = "gatehouse-production-apps"
  node_role_arn   = "arn:aws:iam::111122223333:role/gatehouse-production-node"
  subnet_ids      = ["subnet-0a11b22c33d44e551", "subnet-0a11b22c33d44e552", "subnet-0a11b22c33d44e553"]
  instance_types  = ["m7i.large"]

  scaling_config {
    min_size     = 2
    desired_size = 3
    max_size     = 6
  }

  node_repair_config {
    enabled = true
  }

  lifecycle {
    ignore_changes = [scaling_config[0].desired_size]
  }
}
