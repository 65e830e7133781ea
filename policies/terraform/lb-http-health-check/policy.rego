package gatehouse.terraform.lb_http_health_check

import data.gatehouse.lib.terraform as tf

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "scaleway_lb_backend"
	not has_blocks(["health_check_http"])
	not has_blocks(["health_check_https"])
	path := scaleway_path
	msg := "the backend has no HTTP(S) health check (health_check_http or health_check_https)"
}

# An unknown check block is named in the message; an absent one points at the backend.
scaleway_path := ["health_check_http"] if {
	tf.unknown(["health_check_http"])
} else := ["health_check_https"] if {
	tf.unknown(["health_check_https"])
} else := []

aws_types := {"aws_lb_target_group", "aws_alb_target_group"}

violation contains {"msg": tf.explain(["health_check"], msg), "path": "/health_check"} if {
	input.resource.type in aws_types
	not lambda_target
	not has_blocks(["health_check"])
	msg := "the target group has no health_check block"
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type in aws_types
	not lambda_target
	some i, _ in tf.blocks(["health_check"])
	path := ["health_check", i, "protocol"]
	not http_protocol(path)
	msg := sprintf("the health check's protocol is %v, not HTTP or HTTPS", [object.get(tf.after, path, null)])
}

# Lambda targets are invoked, not probed.
lambda_target if tf.value(["target_type"]) == "lambda"

has_blocks(path) if count(tf.blocks(path)) > 0

http_protocol(path) if tf.value(path) in {"HTTP", "HTTPS"}

# Left out, AWS checks over HTTP.
http_protocol(path) if tf.value(path) == null
