# Placeholders in the shape of real identifiers: the example is planned, never applied.
vpc_id = "vpc-0a1b2c3d4e5f60718"

private_subnet_ids = [
  "subnet-0a11b22c33d44e551",
  "subnet-0a11b22c33d44e552",
  "subnet-0a11b22c33d44e553",
]

public_subnet_ids = [
  "subnet-0b11c22d33e44f551",
  "subnet-0b11c22d33e44f552",
  "subnet-0b11c22d33e44f553",
]

database_subnet_ids = [
  "subnet-0c11d22e33f44a551",
  "subnet-0c11d22e33f44a552",
  "subnet-0c11d22e33f44a553",
]

cluster_name    = "gatehouse-production"
node_role_arn   = "arn:aws:iam::111122223333:role/gatehouse-production-node"
certificate_arn = "arn:aws:acm:eu-west-3:111122223333:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
