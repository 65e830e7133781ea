package gatehouse.terraform.no_plaintext_secrets

import data.gatehouse.lib.terraform as tf

# No secret is written as a literal in the Terraform configuration: secrets come from the
# pipeline (sensitive variables without default, set as TF_VAR_<name>) or are generated and kept
# by the provider (manage_master_user_password, random_password into a secret store).
#
# Only the configuration is read (`expressions` as `terraform show -json` writes them, or as the
# static reading of .tf files does): a literal is a `constant_value`. A literal string (not
# empty) is a secret when
# - a name on its way looks like a secret's (secretNamePatterns, minus allowedNamePatterns): the
#   attribute's, or a key of the map it sits in (environment variables, helm values...), the
#   nearest name deciding whether it is allow-listed (client_id under credentials is not);
# - it is the content of a secret resource (secretValueAttributes: scaleway_secret_version data,
#   aws_secretsmanager_secret_version secret_string...), or the value of a SecureString
#   aws_ssm_parameter;
# - it is the `value` next to a `name` that looks like a secret's (helm `set`, Kubernetes `env`,
#   CodeBuild `environment_variable`...), or the `value` of a helm `set_sensitive`;
# - the provider marks the attribute sensitive (after_sensitive, in a plan from terraform).
# A value matching allowedValuePatterns (an ARN) is a reference to a secret, not one.
#
# Literals outside resources are reported once, on an anchor resource, with the path "" (a
# policy is evaluated per resource; these belong to none): secret-named or sensitive variables
# with a default, module call arguments, provider configurations and, in a static reading, root
# variables set in terraform.tfvars / *.auto.tfvars. The anchor of what is written in a module
# is the first resource of that module in resource_changes order (the first instance of the
# module, when it has several); when the module plans no resource (an environment's root module
# that only calls modules), the first resource of the plan.

default_secret_name_patterns := [
	`passw(or)?d`,
	`passphrase`,
	`(^|_)pwd($|_)`,
	`secret`,
	`token`,
	`private_?key`,
	`access_?key`,
	`api_?key`,
	`credential`,
	`connection_?string`,
]

default_allowed_name_patterns := [
	`_(arn|arns|id|ids|name|names|type|types|provider|version|strategy|expression|source|mode|path|length|policy|domains|validity|validity_units|required|enabled|ref|header_value)$`,
	`^(http_tokens|creation_token|client_token|idempotency_token|token_url|token_endpoint|secret_id|secret_name|key_name|kms_key_id|key_id|password_wo_version)$`,
	`^existing_`,
]

default_allowed_value_patterns := [`^arn:aws[a-z-]*:`]

default_secret_value_attributes := {
	"scaleway_secret_version": ["data", "data_wo"],
	"aws_secretsmanager_secret_version": ["secret_string", "secret_binary", "secret_string_wo"],
	"kubernetes_secret": ["data", "binary_data"],
	"kubernetes_secret_v1": ["data", "binary_data"],
	"helm_release": ["set_sensitive"],
}

secret_name_patterns := parameter("secretNamePatterns", default_secret_name_patterns)

allowed_name_patterns := parameter("allowedNamePatterns", default_allowed_name_patterns)

allowed_value_patterns := parameter("allowedValuePatterns", default_allowed_value_patterns)

secret_value_attributes := v if {
	v := input.parameters.secretValueAttributes
	is_object(v)
} else := default_secret_value_attributes

parameter(name, fallback) := [p | some p in v; is_string(p)] if {
	v := input.parameters[name]
	is_array(v)
} else := fallback

# --- Names -----------------------------------------------------------------------------------

# A name as the patterns see it: its last segment ("auth.postgresPassword" -> postgresPassword),
# camelCase split with "_", lower case: postgres_password.
normalized(name) := lower(regex.replace(last, `([a-z0-9])([A-Z])`, "${1}_${2}")) if {
	stripped := regex.replace(name, `^.*[./\[\]]`, "")
	last := stripped
	last != ""
} else := lower(name)

allowed_name(name) if {
	n := normalized(name)
	some p in allowed_name_patterns
	regex.match(p, n)
}

secret_named(name) if {
	is_string(name)
	n := normalized(name)
	some p in secret_name_patterns
	regex.match(p, n)
	not allowed_name(name)
}

allowed_value(v) if {
	some p in allowed_value_patterns
	regex.match(p, v)
}

# A literal that may be a secret: a string with something in it, not an allow-listed reference.
candidate(v) if {
	is_string(v)
	trim_space(v) != ""
	not allowed_value(v)
}

# --- Literals of an `expressions` object (a resource's, a module call's, a provider's) --------

# [values path, why] of each literal holding a secret. `kind` is the resource type ("module" and
# "provider" for calls and provider configurations); `sensitive` is the resource's
# after_sensitive ({} when there is none).
expression_secrets(expressions, kind, sensitive) := {[path, why] |
	walk(expressions, [at, node])
	is_object(node)
	count(at) > 0
	not "constant_value" in at
	is_string(at[count(at) - 1])
	constant := object.get(node, "constant_value", null)
	walk(constant, [inner, v])
	candidate(v)
	path := array.concat(at, inner)
	why := literal_reason(kind, at, inner, expressions, constant, sensitive)
}

literal_reason(kind, at, inner, expressions, constant, sensitive) := "the content of a secret" if {
	attributes := object.get(secret_value_attributes, kind, [])
	is_array(attributes)
	at[0] in attributes
	nearest := last_name(at, inner)
	not nearest in {"name", "type"}
	not allowed_name(nearest)
} else := "its name says it holds a secret" if {
	names := array.concat([at[count(at) - 1]], [k | some k in inner; is_string(k)])
	not allowed_name(last_name(at, inner))
	some name in names
	secret_named(name)
} else := sprintf("the value of %s", [name]) if {
	last_name(at, inner) == "value"
	name := sibling_name(at, inner, expressions, constant)
	secret_named(name)
} else := "the value of a SecureString parameter" if {
	kind == "aws_ssm_parameter"
	at[0] in {"value", "value_wo"}
	object.get(expressions, ["type", "constant_value"], "") == "SecureString"
} else := "a URL with a password in it" if {
	regex.match(`^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#@\s:]*:[^/?#@\s]+@`, last_value(constant, inner))
} else := "an attribute the provider marks sensitive" if {
	is_object(sensitive)
	path := array.concat(at, inner)
	some n in numbers.range(1, count(path))
	object.get(sensitive, array.slice(path, 0, n), false) == true
}

last_value(constant, inner) := object.get({"v": constant}, array.concat(["v"], inner), null)

last_name(at, inner) := names[count(names) - 1] if {
	names := array.concat([at[count(at) - 1]], [k | some k in inner; is_string(k)])
}

# The `name` next to a `value`: in the same object of a literal list (helm v3 `set = [{name,
# value}]`), or in the same block (`set { name = ..., value = ... }`).
sibling_name(at, inner, expressions, constant) := name if {
	count(inner) > 0
	name := object.get({"v": constant}, array.concat(array.concat(["v"], array.slice(inner, 0, count(inner) - 1)), ["name"]), null)
	is_string(name)
} else := name if {
	count(inner) == 0
	name := object.get(expressions, array.concat(array.slice(at, 0, count(at) - 1), ["name", "constant_value"]), null)
	is_string(name)
}

# --- Resources -------------------------------------------------------------------------------

violation contains {"msg": msg, "path": tf.pointer(path)} if {
	expressions := object.get(tf.configuration, "expressions", {})
	is_object(expressions)
	sensitive := object.get(input.resource, ["change", "after_sensitive"], {})
	some [path, why] in expression_secrets(expressions, input.resource.type, sensitive)
	msg := sprintf("%s is written as a literal in the configuration (%s): a secret committed to the repository", [tf.dotted(path), why])
}

# --- Outside resources: variables, module calls, providers -----------------------------------

# Variables of a module (of the root module for []) whose default holds a secret: named like
# one, or declared sensitive.
violation contains {"msg": msg, "path": ""} if {
	some calls in anchored_modules
	variables := object.get(module_config(calls), "variables", {})
	is_object(variables)
	some name, spec in variables
	is_object(spec)
	leaves := value_secrets(name, object.get(spec, "default", null), object.get(spec, "sensitive", false) == true)
	count(leaves) > 0
	msg := sprintf("variable %q%s has a default written in the configuration%s: a secret committed to the repository; remove the default and %s", [name, of_module(calls), at_leaves("default", leaves), set_by(calls, name)])
}

# Root variables given in terraform.tfvars or *.auto.tfvars, in a static reading of the .tf
# files (a plan's variables also hold what the pipeline set, TF_VAR_ included).
violation contains {"msg": msg, "path": ""} if {
	[] in anchored_modules
	object.get(input.plan, ["gatehouse", "static"], false) == true
	values := object.get(input.plan, "variables", {})
	is_object(values)
	declared := object.get(module_config([]), "variables", {})
	is_object(declared)
	some name, entry in values
	is_object(entry)
	value := object.get(entry, "value", null)
	spec := object.get(declared, name, {})
	is_object(spec)
	object.get(spec, "default", null) != value
	leaves := value_secrets(name, value, object.get(spec, "sensitive", false) == true)
	count(leaves) > 0
	msg := sprintf("variable %q is given a value in terraform.tfvars or a *.auto.tfvars file%s: a secret committed to the repository; let the pipeline set it (TF_VAR_%s)", [name, at_leaves("value", leaves), name])
}

# Arguments of module calls written as literals: named like a secret, or feeding a variable the
# module declares sensitive.
violation contains {"msg": msg, "path": ""} if {
	some calls in anchored_modules
	module_calls := object.get(module_config(calls), "module_calls", {})
	is_object(module_calls)
	some call, spec in module_calls
	is_object(spec)
	expressions := object.get(spec, "expressions", {})
	is_object(expressions)
	some [path, why] in call_secrets(expressions, object.get(spec, ["module", "variables"], {}))
	msg := sprintf("module %q (called in %s) is given %s as a literal (%s): a secret committed to the repository", [call, module_name(calls), tf.dotted(path), why])
}

# The secret literals given to a module: named like secrets, or feeding a variable the module
# declares sensitive (each argument once).
call_secrets(expressions, variables) := named | sensitive_arguments if {
	named := expression_secrets(expressions, "module", {})
	named_arguments := {at[0] | some [at, _] in named}
	sensitive_arguments := {[path, "a variable the module declares sensitive"] |
		is_object(variables)
		some name, expression in expressions
		not name in named_arguments
		object.get(variables, [name, "sensitive"], false) == true
		is_object(expression)
		constant := object.get(expression, "constant_value", null)
		walk(constant, [inner, v])
		candidate(v)
		path := array.concat([name], inner)
	}
}

# Provider configurations (configuration.provider_config of a plan; not in a static reading).
violation contains {"msg": msg, "path": ""} if {
	providers := object.get(input.plan, ["configuration", "provider_config"], {})
	is_object(providers)
	some key, provider in providers
	is_object(provider)
	calls_of(provider) in anchored_modules
	expressions := object.get(provider, "expressions", {})
	is_object(expressions)
	some [path, why] in expression_secrets(expressions, "provider", {})
	msg := sprintf("provider %q is configured with %s as a literal (%s): a secret committed to the repository", [key, tf.dotted(path), why])
}

# The paths, inside a variable's value, of the strings that hold a secret; [[]] for the value
# itself. A sensitive variable's strings all do.
value_secrets(name, value, sensitive) := [inner |
	walk(value, [inner, v])
	candidate(v)
	plain_secret(name, value, inner, sensitive)
]

plain_secret(_, _, _, true) := true

plain_secret(name, _, inner, _) if {
	names := array.concat([name], [k | some k in inner; is_string(k)])
	not allowed_name(names[count(names) - 1])
	some n in names
	secret_named(n)
}

plain_secret(_, value, inner, _) if {
	regex.match(`^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#@\s:]*:[^/?#@\s]+@`, last_value(value, inner))
}

plain_secret(_, value, inner, _) if {
	count(inner) > 0
	inner[count(inner) - 1] == "value"
	secret_named(object.get({"v": value}, array.concat(array.concat(["v"], array.slice(inner, 0, count(inner) - 1)), ["name"]), null))
}

# " (at default.a.b, default.c)" for strings inside an object or a list; nothing for the whole
# value.
at_leaves(prefix, leaves) := "" if {
	leaves == [[]]
} else := sprintf(" (at %s)", [concat(", ", sort({concat(".", array.concat([prefix], [sprintf("%v", [k]) | some k in leaf])) | some leaf in leaves}))])

set_by(calls, name) := sprintf("let the pipeline set it (TF_VAR_%s)", [name]) if {
	count(calls) == 0
} else := "pass it in the module call, from a variable the pipeline sets"

module_name(calls) := "the root module" if {
	count(calls) == 0
} else := sprintf("module.%s", [concat(".module.", calls)])

of_module(calls) := " (root module)" if {
	count(calls) == 0
} else := sprintf(" (module.%s)", [concat(".module.", calls)])

# --- Anchors ---------------------------------------------------------------------------------

# The resources the engine judges: managed ones the plan keeps.
judged := [rc |
	changes := object.get(input.plan, "resource_changes", [])
	is_array(changes)
	some rc in changes
	is_object(rc)
	rc.mode == "managed"
	rc.change.actions != ["delete"]
]

# The module calls of a resource change or a provider configuration: module.db[0].module.x ->
# ["db", "x"]; [] in the root module.
calls_of(thing) := [c |
	some i, c in split(regex.replace(address, `\[[^\]]*\]`, ""), ".")
	i % 2 == 1
] if {
	address := object.get(thing, "module_address", null)
	is_string(address)
	address != ""
} else := []

module_config(calls) := m if {
	m := object.get(input.plan, array.concat(["configuration", "root_module"], [step | some c in calls; some step in ["module_calls", c, "module"]]), {})
	is_object(m)
} else := {}

# The modules whose literals this resource carries: its own when it is the module's first
# resource; when it is the plan's first, those of the modules that plan no resource.
anchored_modules contains calls if {
	calls := calls_of(input.resource)
	first_in_module
}

anchored_modules contains calls if {
	first_in_plan
	planned := {calls_of(rc) | some rc in judged}
	some calls in configuration_modules
	not calls in planned
}

# The engine gives the resource's rank (input.position); a hand-made input is ranked here, over
# the whole plan.
first_in_module if input.position.in_module == 0

first_in_module if {
	not input.position
	calls := calls_of(input.resource)
	firsts := [rc | some rc in judged; calls_of(rc) == calls]
	firsts[0].address == input.resource.address
}

first_in_plan if input.position.in_plan == 0

first_in_plan if {
	not input.position
	judged[0].address == input.resource.address
}

# Every module of the configuration, as its list of calls.
configuration_modules contains [] if true

configuration_modules contains [step | some j, step in path; j % 3 == 1] if {
	walk(object.get(input.plan, ["configuration", "root_module"], {}), [path, node])
	is_object(node)
	count(path) > 0
	count(path) % 3 == 0
	not off_module_path(path)
}

off_module_path(path) if {
	some j, step in path
	j % 3 == 0
	step != "module_calls"
}

off_module_path(path) if {
	some j, step in path
	j % 3 == 2
	step != "module"
}
