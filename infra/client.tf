# The client side: a managed policy for the user or role that runs buzzlite
# (the coordinator). It may invoke only this function, list and read only the
# datasets and DynamoDB tables, and read and delete what the function left
# below the scratch prefix (the coordinator deletes each scratch result after
# reading it). Attach it with aws_iam_user_policy_attachment or
# aws_iam_role_policy_attachment, or in the console.

data "aws_iam_policy_document" "client" {
  statement {
    sid       = "InvokeHbee"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.hbee.arn]
  }

  statement {
    sid       = "ReadDatasetObjects"
    actions   = ["s3:GetObject"]
    resources = local.dataset_object_arns
  }

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

  statement {
    sid       = "ReadAndDeleteScratchResults"
    actions   = ["s3:GetObject", "s3:DeleteObject"]
    resources = [local.scratch_object_arn]
  }

  dynamic "statement" {
    for_each = length(var.dynamodb_tables) > 0 ? ["ddb"] : []
    content {
      sid       = "ReadDynamoDBTables"
      actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan"]
      resources = local.dynamodb_table_arns
    }
  }
}

resource "aws_iam_policy" "client" {
  name        = "${var.name}-client"
  description = "buzzlite client: invoke ${var.name}, read the datasets, read and delete scratch results"
  policy      = data.aws_iam_policy_document.client.json
}
