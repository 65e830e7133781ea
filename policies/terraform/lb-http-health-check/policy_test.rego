package gatehouse.terraform.lb_http_health_check_test

import data.gatehouse.terraform.lb_http_health_check as p

backend(after, unknown) := {"resource": {
	"address": "scaleway_lb_backend.web", "type": "scaleway_lb_backend", "name": "web", "mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}}

group(after, unknown) := {"resource": {
	"address": "aws_lb_target_group.api", "type": "aws_lb_target_group", "name": "api", "mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}}

test_scaleway_http_and_https_checks_pass if {
	count(p.violation) == 0 with input as backend({"health_check_http": [{"uri": "/healthz"}]}, {})
	count(p.violation) == 0 with input as backend({"health_check_https": [{"uri": "/healthz"}]}, {})
}

test_scaleway_tcp_only_fails_at_the_backend if {
	v := p.violation with input as backend({"health_check_tcp": [{}], "health_check_http": []}, {})
	[x | some x in v] == [{"msg": "the backend has no HTTP(S) health check (health_check_http or health_check_https)", "path": ""}]
}

test_scaleway_unknown_check_is_not_a_pass if {
	v := p.violation with input as backend({"health_check_http": null}, {"health_check_http": true})
	some x in v
	x.path == "/health_check_http"
	contains(x.msg, "known only after apply")
}

test_aws_default_protocol_is_http if {
	count(p.violation) == 0 with input as group({"protocol": "HTTP", "health_check": [{"path": "/healthz", "protocol": null}]}, {})
}

test_aws_tcp_check_fails_at_its_protocol if {
	v := p.violation with input as group({"health_check": [{"protocol": "TCP"}]}, {})
	some x in v
	x.path == "/health_check/0/protocol"
	contains(x.msg, "TCP")
}

test_aws_missing_or_unknown_check_fails if {
	count(p.violation) == 1 with input as group({"protocol": "HTTP"}, {})
	v := p.violation with input as group({"health_check": [{"protocol": null}]}, {"health_check": [{"protocol": true}]})
	some x in v
	x.path == "/health_check/0/protocol"
	contains(x.msg, "known only after apply")
}

test_aws_lambda_targets_are_exempt if {
	count(p.violation) == 0 with input as group({"target_type": "lambda"}, {})
}
