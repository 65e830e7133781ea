resource "aws_secretsmanager_secret" "api" {
  name = "prod/api/stripe"
}

resource "aws_secretsmanager_secret_version" "api" {
  secret_id     = aws_secretsmanager_secret.api.id
  secret_string = jsonencode({ api_key = "not-a-real-key-0000" })
}
