# Helpers over `input.resource` (an entry of a plan's resource_changes) and `input.plan` shared
# by the Terraform policies. Paths are arrays of keys and indices into the values after apply:
# ["private_network", 0, "pn_id"].
#
# A value known only after apply is null in `change.after` and true in `change.after_unknown`.
# A policy must never let such a value pass: it checks `unknown(path)` before judging a value,
# and says so in its message with `explain`.
package gatehouse.lib.terraform

# The values after apply; an unknown one is null.
after := a if {
	a := input.resource.change.after
	is_object(a)
} else := {}

# The value at path is known only after apply (it, or an object or list holding it).
unknown(path) if {
	some n in numbers.range(1, count(path))
	object.get(input.resource.change.after_unknown, array.slice(path, 0, n), false) == true
}

# The value at path when it is known; null when it is absent or null; undefined when unknown.
value(path) := v if {
	not unknown(path)
	v := object.get(after, path, null)
}

# The value at path is known and is exactly true.
is_true(path) if value(path) == true

# The value at path is known and is a number at least / at most the bound.
at_least(path, bound) if {
	v := value(path)
	is_number(v)
	v >= bound
}

at_most(path, bound) if {
	v := value(path)
	is_number(v)
	v <= bound
}

# The blocks of a nested block type (a list of objects in the plan); empty when absent, and
# undefined when unknown.
blocks(path) := bs if {
	v := value(path)
	is_array(v)
	bs := [b | some b in v; is_object(b)]
} else := [] if value(path) == null

# `msg`, or, when the value at path is unknown, why it cannot be checked.
explain(path, msg) := sprintf("%s is known only after apply, so it cannot be checked: %s", [dotted(path), msg]) if {
	unknown(path)
} else := msg

# ["private_network", 0, "pn_id"] as a JSON pointer into the values: /private_network/0/pn_id.
pointer(path) := concat("", [sprintf("/%v", [p]) | some p in path])

dotted(path) := concat(".", [sprintf("%v", [p]) | some p in path])

# Tags as a set of "key=value" strings, from a Scaleway list (["environment=production"]) or an
# AWS map ({"environment": "production"}).
tag_set(tags) := {t | some t in tags; is_string(t)} if is_array(tags)

tag_set(tags) := {sprintf("%s=%v", [k, v]) | some k, v in tags} if is_object(tags)

tag_set(tags) := set() if {
	not is_array(tags)
	not is_object(tags)
}

# The resource is tagged key=value (Scaleway `tags` list, AWS `tags` map; "key:value" counts).
has_tag(key, val) if {
	some t in tag_set(object.get(after, "tags", []))
	t in {sprintf("%s=%s", [key, val]), sprintf("%s:%s", [key, val])}
}

# The module of the configuration holding the resource: configuration.root_module, or the
# module of the call path in `module_address` ("module.db[0].module.replica").
configuration_module := m if {
	not input.resource.module_address
	m := object.get(input.plan, ["configuration", "root_module"], {})
	is_object(m)
} else := m if {
	is_string(input.resource.module_address)
	calls := [c | some i, part in split(regex.replace(input.resource.module_address, `\[[^\]]*\]`, ""), "."); i % 2 == 1; c := part]
	path := array.concat(["configuration", "root_module"], [step | some c in calls; some step in ["module_calls", c, "module"]])
	m := object.get(input.plan, path, {})
	is_object(m)
} else := {}

# The resource's own block of the configuration (expressions, count_expression, ...).
configuration := r if {
	resources := object.get(configuration_module, "resources", [])
	is_array(resources)
	some r in resources
	is_object(r)
	r.address == sprintf("%s.%s", [input.resource.type, input.resource.name])
} else := {}

# The literal written for an attribute in the configuration (path of keys and block indices),
# undefined when the attribute is computed from anything else.
literal(path) := v if {
	expression := object.get(configuration.expressions, path, null)
	is_object(expression)
	v := expression.constant_value
}

# Resources of `type` in the resource's module whose `attr` refers to this resource, as
# Terraform records references: ["aws_db_instance.main.id", "aws_db_instance.main"].
referrers(type, attr) := [r |
	own := sprintf("%s.%s", [input.resource.type, input.resource.name])
	resources := object.get(configuration_module, "resources", [])
	is_array(resources)
	some r in resources
	is_object(r)
	r.type == type
	refs := object.get(r, ["expressions", attr, "references"], [])
	is_array(refs)
	own in refs
]

# The plan's resources of `type` that are kept (not deleted), in the resource's module instance:
# from the engine's `input.module_resources`, or, in a hand-made input, from the plan.
planned(type) := rcs if {
	is_object(input.module_resources)
	rcs := object.get(input.module_resources, type, [])
} else := [rc |
	changes := object.get(input.plan, "resource_changes", [])
	is_array(changes)
	some rc in changes
	is_object(rc)
	rc.type == type
	rc.mode == "managed"
	rc.change.actions != ["delete"]
	object.get(rc, "module_address", "") == object.get(input.resource, "module_address", "")
]

# The value at path as a number, or a number written as a string ("30"), which Terraform
# converts (a static reading has no schema to convert it); undefined when unknown.
number(path) := v if {
	v := value(path)
	is_number(v)
} else := to_number(trim_space(v)) if {
	v := value(path)
	is_string(v)
	regex.match(`^\s*-?[0-9]+(\.[0-9]+)?\s*$`, v)
}

# The value at path as a boolean, or "true"/"false" as a .tf file may write it.
boolean(path) := v if {
	v := value(path)
	is_boolean(v)
} else := v == "true" if {
	v := value(path)
	v in {"true", "false"}
}

# What the value at path is, to lead a message: "backup_retention_period is 7: ", or
# "backup_retention_period is not set (<fallback>): "; nothing for an unknown value (`explain`
# says why it cannot be checked).
found(path, fallback) := "" if {
	unknown(path)
} else := sprintf("%s is not set (%s): ", [dotted(path), fallback]) if {
	value(path) == null
} else := sprintf("%s is %s: ", [dotted(path), json.marshal(value(path))])

# An RDS read replica: replicate_source_db is a known source, or is known only after apply (as
# `aws_db_instance.main.arn` is on creation) and refers to a resource, a data source or a module
# output. An unknown variable does not make a replica.
rds_replica if {
	input.resource.type == "aws_db_instance"
	v := value(["replicate_source_db"])
	is_string(v)
	trim_space(v) != ""
}

rds_replica if {
	input.resource.type == "aws_db_instance"
	unknown(["replicate_source_db"])
	refs := object.get(configuration, ["expressions", "replicate_source_db", "references"], [])
	is_array(refs)
	some ref in refs
	is_string(ref)
	not startswith(ref, "var.")
	not startswith(ref, "local.")
}

# A value for messages: strings quoted, anything else as Rego prints it.
show(v) := sprintf("%q", [v]) if is_string(v)

show(v) := sprintf("%v", [v]) if not is_string(v)

# The attribute at path is unknown in the plan but is not written in the configuration (its
# parent is): the provider computes it, so it is no value the code chose.
computed_unset(path) if {
	unknown(path)
	expressions := object.get(configuration, "expressions", null)
	is_object(expressions)
	object.get(expressions, array.slice(path, 0, count(path) - 1), null) != null
	object.get(expressions, path, null) == null
}
