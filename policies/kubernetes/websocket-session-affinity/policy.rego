package gatehouse.kubernetes.websocket_session_affinity

# A Service annotated as WebSocket keeps each client on one pod: spec.sessionAffinity ClientIP,
# unless an exemption annotation says that a gateway keeps the affinity.

# A DELETE, and an update to a Service already being deleted (its load-balancer finalizer being
# removed), are let through.
checked if {
	not input.review.operation == "DELETE"
	not input.review.object.metadata.deletionTimestamp
}

annotations := a if {
	a := input.review.object.metadata.annotations
	is_object(a)
} else := {}

websocket if {
	value := annotations[input.parameters.websocketAnnotation]
	is_string(value)
	lower(value) == "true"
}

# kube-proxy balances neither headless nor ExternalName Services: affinity there is moot.
load_balanced if {
	not input.review.object.spec.type == "ExternalName"
	not input.review.object.spec.clusterIP == "None"
}

delegated if {
	names := input.parameters.exemptionAnnotations
	is_array(names)
	some name in names
	value := annotations[name]
	is_string(value)
	trim_space(value) != ""
	lower(value) != "false"
}

affinity := a if {
	a := input.review.object.spec.sessionAffinity
	a != null
} else := "None"

violation contains {"msg": msg, "path": "/spec/sessionAffinity"} if {
	checked
	websocket
	not affinity == "ClientIP"
	load_balanced
	not delegated
	msg := sprintf(
		"Service %s is marked as WebSocket (%s: \"true\") but %s: set spec.sessionAffinity: ClientIP so that each client's connections stay on one pod%s",
		[
			quoted(data.gatehouse.lib.kubernetes.name),
			input.parameters.websocketAnnotation,
			affinity_text(input.review.object),
			exemption_hint(input.parameters.exemptionAnnotations),
		],
	)
}

# Message fragments: functions, so that they are computed only for a violation (regorus
# evaluates every complete rule of the package).

affinity_text(obj) := sprintf("its spec.sessionAffinity is %s", [json.marshal(a)]) if {
	a := obj.spec.sessionAffinity
	a != null
} else := "sets no spec.sessionAffinity (None by default)"

exemption_hint(names) := sprintf(", or, where a gateway keeps the affinity with a cookie or header hash, annotate the Service with %s saying where", [concat(" or ", names)]) if {
	is_array(names)
	count(names) > 0
	every a in names {
		is_string(a)
	}
} else := ""

quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
