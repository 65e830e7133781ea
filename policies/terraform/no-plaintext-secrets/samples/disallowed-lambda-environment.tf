resource "aws_lambda_function" "webhook" {
  function_name = "billing-webhook"
  role          = "arn:aws:iam::123456789012:role/billing-webhook"
  runtime       = "python3.12"
  handler       = "main.handler"
  filename      = "build/webhook.zip"

  environment {
    variables = {
      LOG_LEVEL      = "info"
      WEBHOOK_SECRET = "not-a-real-secret-0000"
    }
  }
}
