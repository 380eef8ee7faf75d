# Inputs. Required: region, datasets, scratch (see terraform.tfvars.example).

variable "region" {
  description = "AWS region of the function, the scratch prefix and the optional Redis (e.g. us-east-1)."
  type        = string
}

variable "name" {
  description = "Name of the Lambda function (the client's function= option; buzzlite's default is buzzlite-hbee) and prefix of every other resource."
  type        = string
  default     = "buzzlite-hbee"
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "name: 1-56 letters, digits, - or _."
  }
}

variable "lambda_zip" {
  description = "Path of the deployment package built by `make lambda` (bootstrap and its shared libraries, provided.al2023)."
  type        = string
  default     = "../build/hbee-lambda.zip"
}

variable "architecture" {
  description = "Lambda architecture: x86_64 (default) or arm64 (needs a zip built for arm64)."
  type        = string
  default     = "x86_64"
  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture: x86_64 or arm64."
  }
}

variable "memory_mb" {
  description = "Function memory in MB; CPU grows with it, 1769 MB is one full vCPU (the client's memory_mb option should match for cost estimates)."
  type        = number
  default     = 1769
  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 10240
    error_message = "memory_mb: 128 to 10240."
  }
}

variable "timeout_s" {
  description = "Function timeout in seconds (one split must finish within it; the client re-issues a timed-out task)."
  type        = number
  default     = 120
  validation {
    condition     = var.timeout_s >= 1 && var.timeout_s <= 900
    error_message = "timeout_s: 1 to 900."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions for the function; -1 (default) reserves none and uses the account's unreserved pool. Keep the client's max_concurrency at or below it."
  type        = number
  default     = -1
}

variable "log_retention_days" {
  description = "Retention of the function's CloudWatch log group, in days."
  type        = number
  default     = 14
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days: one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "datasets" {
  description = "Parquet datasets the hbees and the client may list and read (read-only): bucket and key prefix (\"\" for the whole bucket, else ending in /)."
  type = list(object({
    bucket = string
    prefix = string
  }))
  validation {
    condition     = length(var.datasets) > 0
    error_message = "datasets: name at least one bucket and prefix."
  }
  validation {
    condition = alltrue([
      for d in var.datasets : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", d.bucket)) &&
      (d.prefix == "" || can(regex("^[^*?]*/$", d.prefix)))
    ])
    error_message = "datasets: bucket must be an S3 bucket name; prefix must be \"\" or end in / and contain no * or ?."
  }
}

variable "scratch" {
  description = "Where the function writes results over Lambda's 6 MB response limit (the client's scratch= option); the client reads and deletes them. Its own prefix, ending in /."
  type = object({
    bucket = string
    prefix = string
  })
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.scratch.bucket)) && can(regex("^[^*?]+/$", var.scratch.prefix))
    error_message = "scratch: bucket must be an S3 bucket name; prefix must be non-empty, end in / and contain no * or ?."
  }
}

variable "dynamodb_tables" {
  description = "DynamoDB tables (names, in var.region) the hbees and the client may read."
  type        = list(string)
  default     = []
}

variable "redis_enabled" {
  description = "Also create an ElastiCache Redis for Redis-fed `hbee worker` processes, in a new VPC with two private subnets and the security groups they need."
  type        = bool
  default     = false
}

variable "redis_node_type" {
  description = "ElastiCache node type of the Redis (when redis_enabled)."
  type        = string
  default     = "cache.t4g.micro"
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC created for the Redis and its workers (when redis_enabled)."
  type        = string
  default     = "10.42.0.0/16"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = { project = "buzzlite" }
}
