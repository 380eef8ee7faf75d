# buzzlite hbee on AWS: provider and version constraints.
# Everything here is plain Terraform (>= 1.5) with the AWS provider (>= 5.0);
# `make test` parses every file and renders every IAM policy for
# tests/node/infra_sample.tfvars (tests/node/test_infra.mjs).

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = var.tags
  }
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id

  # Object ARNs the hbees read: one per dataset, "<bucket>/<prefix>*". The
  # trailing * is the only wildcard the read policies contain (object keys
  # below a prefix cannot be listed in advance).
  dataset_object_arns = distinct([
    for d in var.datasets : "arn:${local.partition}:s3:::${d.bucket}/${d.prefix}*"
  ])
  # bucket => the prefixes of it that may be listed (s3:prefix condition)
  dataset_list_prefixes = { for d in var.datasets : d.bucket => "${d.prefix}*"... }

  scratch_object_arn = "arn:${local.partition}:s3:::${var.scratch.bucket}/${var.scratch.prefix}*"
  scratch_url        = "s3://${var.scratch.bucket}/${var.scratch.prefix}"

  dynamodb_table_arns = [
    for t in var.dynamodb_tables : "arn:${local.partition}:dynamodb:${var.region}:${local.account_id}:table/${t}"
  ]

  redis = var.redis_enabled
}
