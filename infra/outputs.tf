# What a client needs. `terraform output -raw client_env` prints export lines:
#   eval "$(terraform -chdir=infra output -raw client_env)"
# then scripts/run-sql.sh and the SQL in sql/ use them (function=, scratch=,
# redis= are CREATE options / hbee_config keys of the hbee table). The client
# names the function by name: AWS_REGION and the credentials' account locate it.

locals {
  redis_url = local.redis ? "redis://${aws_elasticache_replication_group.redis[0].primary_endpoint_address}:6379/0" : null
}

output "aws_region" {
  description = "AWS_REGION for the client."
  value       = var.region
}

output "function_name" {
  description = "The hbee function's name (hbee option function=)."
  value       = aws_lambda_function.hbee.function_name
}

output "function_arn" {
  description = "The hbee function's ARN."
  value       = aws_lambda_function.hbee.arn
}

output "scratch_url" {
  description = "The hbee option scratch= (results over Lambda's 6 MB response limit)."
  value       = local.scratch_url
}

output "redis_url" {
  description = "REDIS_URL of the ElastiCache Redis (reachable from the workers' security group only), or null."
  value       = local.redis_url
}

output "log_group" {
  description = "CloudWatch log group of the function."
  value       = aws_cloudwatch_log_group.hbee.name
}

output "client_policy_arn" {
  description = "Managed policy to attach to the user or role that runs buzzlite."
  value       = aws_iam_policy.client.arn
}

output "worker_policy_arn" {
  description = "Managed policy for Redis-fed hbee workers (read-only datasets)."
  value       = aws_iam_policy.worker.arn
}

output "worker_network" {
  description = "Where to start EC2 workers and the client when redis_enabled: subnets, security group, instance profile; null otherwise."
  value = local.redis ? {
    subnet_ids        = aws_subnet.workers[*].id
    security_group_id = aws_security_group.workers[0].id
    instance_profile  = aws_iam_instance_profile.worker[0].name
  } : null
}

output "client_env" {
  description = "Shell export lines for the client: eval \"$(terraform output -raw client_env)\"."
  value = join("\n", concat([
    "export AWS_REGION=${var.region}",
    "export HBEE_FUNCTION=${aws_lambda_function.hbee.function_name}",
    "export HBEE_SCRATCH=${local.scratch_url}",
  ], local.redis ? ["export REDIS_URL=${local.redis_url}"] : [], [""]))
}

output "client_sql" {
  description = "The same settings as SQL for one connection (hbee_config)."
  value = join("\n", concat([
    "SELECT hbee_config('function', '${aws_lambda_function.hbee.function_name}');",
    "SELECT hbee_config('scratch', '${local.scratch_url}');",
  ], local.redis ? ["SELECT hbee_config('redis', '${local.redis_url}');"] : [], [""]))
}
