# The hbee function: build/hbee-lambda.zip on the provided.al2023 runtime, its
# log group and its role.
#
# Rationale (least privilege): the role can read only the named dataset
# prefixes (s3:GetObject on <bucket>/<prefix>*, s3:ListBucket only with an
# s3:prefix condition), write only below the scratch prefix, read only the
# named DynamoDB tables, and write logs only to its own log group. No action
# has a wildcard; the only wildcards in resources are the object keys below a
# prefix and the log streams of the function's own log group (named by Lambda
# at run time). tests/node/test_infra.mjs renders these documents for a sample
# tfvars and fails on anything broader.

resource "aws_cloudwatch_log_group" "hbee" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "hbee_assume" {
  statement {
    sid     = "LambdaAssumesRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "hbee" {
  name               = "${var.name}-lambda"
  description        = "buzzlite hbee function: read the datasets, write scratch results, own logs"
  assume_role_policy = data.aws_iam_policy_document.hbee_assume.json
}

# Read-only access to the datasets (and DynamoDB tables). Shared by the
# function's role and the policy for Redis-fed workers (workers.tf).
data "aws_iam_policy_document" "dataset_read" {
  statement {
    sid       = "ReadDatasetObjects"
    actions   = ["s3:GetObject"]
    resources = local.dataset_object_arns
  }

  # One statement per bucket: listing is allowed only below its dataset prefixes.
  dynamic "statement" {
    for_each = local.dataset_list_prefixes
    content {
      actions   = ["s3:ListBucket"]
      resources = ["arn:${local.partition}:s3:::${statement.key}"]
      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = statement.value
      }
    }
  }

  # BatchGetItem is what a key IN (...) lookup sends; all five are reads.
  dynamic "statement" {
    for_each = length(var.dynamodb_tables) > 0 ? ["ddb"] : []
    content {
      sid       = "ReadDynamoDBTables"
      actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan"]
      resources = local.dynamodb_table_arns
    }
  }
}

# What only the function needs: put results over the response limit below the
# scratch prefix (the client reads and deletes them, so no Get/Delete here),
# and write to its own log group.
data "aws_iam_policy_document" "hbee_runtime" {
  statement {
    sid       = "WriteScratchResults"
    actions   = ["s3:PutObject"]
    resources = [local.scratch_object_arn]
  }

  # Rationale: Lambda names a log stream per instance at run time, so the
  # streams of the function's own log group are the narrowest resource
  # (arn:...:log-group:/aws/lambda/<name>:log-stream:*). The group exists
  # (created above), so no logs:CreateLogGroup.
  statement {
    sid       = "OwnLogStreams"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.hbee.arn}:log-stream:*"]
  }
}

resource "aws_iam_role_policy" "hbee_dataset" {
  name   = "dataset-read"
  role   = aws_iam_role.hbee.id
  policy = data.aws_iam_policy_document.dataset_read.json
}

resource "aws_iam_role_policy" "hbee_runtime" {
  name   = "scratch-and-logs"
  role   = aws_iam_role.hbee.id
  policy = data.aws_iam_policy_document.hbee_runtime.json
}

resource "aws_lambda_function" "hbee" {
  function_name                  = var.name
  description                    = "buzzlite hbee worker: runs one split of a distributed query"
  filename                       = var.lambda_zip
  source_code_hash               = filebase64sha256(var.lambda_zip)
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.architecture]
  memory_size                    = var.memory_mb
  timeout                        = var.timeout_s
  reserved_concurrent_executions = var.reserved_concurrency
  role                           = aws_iam_role.hbee.arn

  # The log group and its permissions exist before the first invocation.
  depends_on = [aws_cloudwatch_log_group.hbee, aws_iam_role_policy.hbee_runtime]
}
