# SSH allowed from the bastion's security group only.
resource "aws_eks_node_group" "debug" {
  cluster_name    = "gatehouse-staging"
  node_group_name = "gatehouse-staging-debug"
  node_role_arn   = "arn:aws:iam::111122223333:role/gatehouse-staging-node"
  subnet_ids      = ["subnet-0b11b22c33d44e551", "subnet-0b11b22c33d44e552"]

  scaling_config {
    min_size     = 2
    desired_size = 2
    max_size     = 3
  }

  remote_access {
    ec2_ssh_key               = "platform-oncall"
    source_security_group_ids = [aws_security_group.bastion.id]
  }
}

resource "aws_security_group" "bastion" {
  name_prefix = "gatehouse-staging-bastion-"
  description = "Bastion host of gatehouse-staging"
  vpc_id      = "vpc-0a1b2c3d4e5f60718"
}
