# Redis-fed workers (`hbee worker --redis URL`, see README.md here).
#
# Always: a managed policy with the same read-only access the function has,
# for the user, role or instance profile the workers run as.
#
# With redis_enabled: an ElastiCache Redis in a new VPC with two private
# subnets (no internet route; S3 and DynamoDB through free gateway endpoints),
# a security group for the workers (and the client) and one for Redis that
# admits port 6379 from the workers' group only, and an EC2 instance profile
# for workers run on EC2 inside that VPC.
#
# Rationale (TLS): buzzlite's Redis client is Debian's hiredis 0.14, which has
# no TLS, so the Redis uses no in-transit encryption; it is reachable only
# from inside the VPC and only from the workers' security group. At-rest
# encryption is on.

resource "aws_iam_policy" "worker" {
  name        = "${var.name}-worker"
  description = "buzzlite Redis-fed hbee workers: read the datasets"
  policy      = data.aws_iam_policy_document.dataset_read.json
}

data "aws_availability_zones" "available" {
  state = "available"
}

resource "aws_vpc" "hbee" {
  count                = local.redis ? 1 : 0
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = "${var.name}-vpc" }
}

resource "aws_subnet" "workers" {
  count             = local.redis ? 2 : 0
  vpc_id            = aws_vpc.hbee[0].id
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, count.index)
  availability_zone = data.aws_availability_zones.available.names[count.index]
  tags              = { Name = "${var.name}-workers-${count.index}" }
}

resource "aws_vpc_endpoint" "s3" {
  count             = local.redis ? 1 : 0
  vpc_id            = aws_vpc.hbee[0].id
  service_name      = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_vpc.hbee[0].main_route_table_id]
}

resource "aws_vpc_endpoint" "dynamodb" {
  count             = local.redis ? 1 : 0
  vpc_id            = aws_vpc.hbee[0].id
  service_name      = "com.amazonaws.${var.region}.dynamodb"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_vpc.hbee[0].main_route_table_id]
}

resource "aws_security_group" "workers" {
  count       = local.redis ? 1 : 0
  name        = "${var.name}-workers"
  description = "hbee workers and the buzzlite client: may reach Redis, S3 and DynamoDB"
  vpc_id      = aws_vpc.hbee[0].id
}

resource "aws_security_group" "redis" {
  count       = local.redis ? 1 : 0
  name        = "${var.name}-redis"
  description = "hbee Redis: port 6379 from the workers' security group only"
  vpc_id      = aws_vpc.hbee[0].id
}

resource "aws_vpc_security_group_ingress_rule" "redis_from_workers" {
  count                        = local.redis ? 1 : 0
  security_group_id            = aws_security_group.redis[0].id
  referenced_security_group_id = aws_security_group.workers[0].id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  description                  = "Redis from hbee workers"
}

resource "aws_vpc_security_group_egress_rule" "workers_to_redis" {
  count                        = local.redis ? 1 : 0
  security_group_id            = aws_security_group.workers[0].id
  referenced_security_group_id = aws_security_group.redis[0].id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  description                  = "workers to Redis"
}

resource "aws_vpc_security_group_egress_rule" "workers_to_s3" {
  count              = local.redis ? 1 : 0
  security_group_id  = aws_security_group.workers[0].id
  prefix_list_id     = aws_vpc_endpoint.s3[0].prefix_list_id
  ip_protocol        = "tcp"
  from_port          = 443
  to_port            = 443
  description        = "workers to S3 (gateway endpoint)"
}

resource "aws_vpc_security_group_egress_rule" "workers_to_dynamodb" {
  count              = local.redis ? 1 : 0
  security_group_id  = aws_security_group.workers[0].id
  prefix_list_id     = aws_vpc_endpoint.dynamodb[0].prefix_list_id
  ip_protocol        = "tcp"
  from_port          = 443
  to_port            = 443
  description        = "workers to DynamoDB (gateway endpoint)"
}

resource "aws_elasticache_subnet_group" "redis" {
  count      = local.redis ? 1 : 0
  name       = "${var.name}-redis"
  subnet_ids = aws_subnet.workers[*].id
}

resource "aws_elasticache_replication_group" "redis" {
  count                      = local.redis ? 1 : 0
  replication_group_id       = "${var.name}-redis"
  description                = "buzzlite hbee task queue"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = var.redis_node_type
  num_cache_clusters         = 1
  port                       = 6379
  parameter_group_name       = "default.redis7"
  subnet_group_name          = aws_elasticache_subnet_group.redis[0].name
  security_group_ids         = [aws_security_group.redis[0].id]
  at_rest_encryption_enabled = true
  transit_encryption_enabled = false
  apply_immediately          = true
}

# EC2 workers in the VPC run with this instance profile (read-only datasets).
data "aws_iam_policy_document" "worker_assume" {
  statement {
    sid     = "Ec2AssumesRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "worker" {
  count              = local.redis ? 1 : 0
  name               = "${var.name}-worker"
  assume_role_policy = data.aws_iam_policy_document.worker_assume.json
}

resource "aws_iam_role_policy_attachment" "worker" {
  count      = local.redis ? 1 : 0
  role       = aws_iam_role.worker[0].name
  policy_arn = aws_iam_policy.worker.arn
}

resource "aws_iam_instance_profile" "worker" {
  count = local.redis ? 1 : 0
  name  = "${var.name}-worker"
  role  = aws_iam_role.worker[0].name
}
