# An SSH key without source security groups: port 22 open to 0.0.0.0/0 on every node.
resource "aws_eks_node_group" "apps" {
  cluster_name    = "gatehouse-production"
  node_group_name = "gatehouse-production-apps"
  node_role_arn   = "arn:aws:iam::111122223333:role/gatehouse-production-node"
  subnet_ids      = ["subnet-0a11b22c33d44e551", "subnet-0a11b22c33d44e552"]

  scaling_config {
    min_size     = 2
    desired_size = 2
    max_size     = 6
  }

  remote_access {
    ec2_ssh_key = "platform-oncall"
  }
}
