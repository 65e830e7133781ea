# A production Kapsule cluster runs on a dedicated (highly available) control plane.
#
# Production is told by the tags (parameter productionTags). A value known only after apply never
# passes: an unknown type is reported, and so are unknown tags when the type is not a dedicated
# one (the cluster may be a production one).
package gatehouse.terraform.cluster_control_plane_ha

import data.gatehouse.lib.terraform as tf

dedicated_prefixes := ["kapsule-dedicated-", "multicloud-dedicated-"]

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "scaleway_k8s_cluster"
	not dedicated
	state := production_state
	state != "no"
	path := problem_path(state)
	msg := message(state)
}

dedicated if {
	v := tf.value(["type"])
	is_string(v)
	some prefix in dedicated_prefixes
	startswith(v, prefix)
}

# The tags that mark production, from the parameter.
production_tags := {t |
	ps := object.get(input, ["parameters", "productionTags"], ["environment=production"])
	is_array(ps)
	some t in ps
	is_string(t)
}

# The tags known now, as "key=value" strings (a Scaleway list, or a map).
known_tags contains t if {
	ts := tf.value(["tags"])
	is_array(ts)
	some i, t in ts
	is_string(t)
	not tf.unknown(["tags", i])
}

known_tags contains sprintf("%s=%v", [k, v]) if {
	ts := tf.value(["tags"])
	is_object(ts)
	some k, v in ts
	v != null
	not tf.unknown(["tags", k])
}

# The first production tag the cluster holds.
matched_tag := p if {
	matches := [p |
		some p in production_tags
		some t in known_tags
		t in {p, replace(p, "=", ":")}
	]
	count(matches) > 0
	p := matches[0]
}

# The first tag (or the whole list) known only after apply.
unknown_tags_path := ["tags"] if {
	tf.unknown(["tags"])
} else := p if {
	ts := tf.value(["tags"])
	is_array(ts)
	paths := [["tags", i] | some i, _ in ts; tf.unknown(["tags", i])]
	count(paths) > 0
	p := paths[0]
} else := p if {
	ts := tf.value(["tags"])
	is_object(ts)
	paths := [["tags", k] | some k, _ in ts; tf.unknown(["tags", k])]
	count(paths) > 0
	p := paths[0]
}

production_state := "yes" if {
	matched_tag
} else := "unknown" if {
	unknown_tags_path
} else := "no"

problem_path(_) := ["type"] if tf.unknown(["type"])

problem_path("yes") := ["type"] if not tf.unknown(["type"])

problem_path("unknown") := unknown_tags_path if not tf.unknown(["type"])

message("yes") := sprintf(
	"the production cluster (tag %s) %s: it has no SLA and is a single point of failure; use a dedicated control plane (type kapsule-dedicated-4, -8 or -16)",
	[matched_tag, type_text],
) if not tf.unknown(["type"])

message("unknown") := sprintf(
	"the cluster %s, and it may be a production cluster, which needs a dedicated control plane (type kapsule-dedicated-*)",
	[type_text],
) if not tf.unknown(["type"])

message(_) := "a production cluster needs a dedicated control plane (type kapsule-dedicated-*)" if tf.unknown(["type"])

type_text := "sets no type, so it gets the shared control plane \"kapsule\"" if {
	tf.value(["type"]) == null
} else := sprintf("has type %q, a shared control plane", [v]) if {
	v := tf.value(["type"])
	is_string(v)
} else := sprintf("has type %v, which is not a control plane type", [tf.value(["type"])])
