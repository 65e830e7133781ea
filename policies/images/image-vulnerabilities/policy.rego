package gatehouse.images.image_vulnerabilities

# Every vulnerability of an image's trivy report at or above the severity threshold is a
# violation, unless fixed-only judging leaves it out or an allow-list entry in force names it.

# trivy's order; a severity it does not know (or none) ranks as UNKNOWN.
ranks := {"UNKNOWN": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}

threshold := ranks[input.parameters.severity] if {
	is_string(input.parameters.severity)
} else := ranks.HIGH

ignore_unfixed if input.parameters.ignoreUnfixed == true

# A string field of a report entry, or "" when it is absent or not a string.
text(entry, field) := s if {
	s := entry[field]
	is_string(s)
} else := ""

# Trivy leaves Status out in reports made before it had one: FixedVersion alone then decides.
fixed(v) if {
	text(v, "FixedVersion") != ""
	text(v, "Status") in {"", "fixed"}
}

severity_of(v) := s if {
	s := text(v, "Severity")
	s != ""
} else := "UNKNOWN"

# The allow list's entries, whatever their shape: an entry that is not an object allows nothing.
entries := [e | some e in object.get(input, ["parameters", "allow"], []); is_object(e)]

# The day in UTC, as the allow list writes its expiries; an entry allows through its expiry day.
today := sprintf("%04d-%02d-%02d", time.date(time.now_ns()))

is_date(d) if regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`, d)

in_force(e) if {
	trim_space(text(e, "reason")) != ""
	is_date(text(e, "expires"))
	text(e, "expires") >= today
}

allowed(id) if {
	some e in entries
	e.id == id
	in_force(e)
}

# Why an entry that names the vulnerability allows nothing.
refusal(e) := "its allow-list entry has no reason, so it allows nothing" if {
	trim_space(text(e, "reason")) == ""
} else := "its allow-list entry has no expires (YYYY-MM-DD), so it allows nothing" if {
	text(e, "expires") == ""
} else := sprintf("its allow-list entry's expires %q is not a date (YYYY-MM-DD), so it allows nothing", [text(e, "expires")]) if {
	not is_date(text(e, "expires"))
} else := sprintf("its allow-list entry expired on %s", [text(e, "expires")]) if {
	text(e, "expires") < today
}

refusals(id) := concat("; ", sort({r | some e in entries; e.id == id; r := refusal(e)}))

fix_text(v) := sprintf("fixed in %s", [text(v, "FixedVersion")]) if {
	fixed(v)
} else := sprintf("no fixed version (status %s)", [text(v, "Status")]) if {
	text(v, "Status") != ""
} else := "no fixed version"

results := r if {
	r := input.review.object.report.Results
	is_array(r)
} else := []

violation contains {"msg": msg, "path": path, "details": details} if {
	some i, result in results
	vulnerabilities := result.Vulnerabilities
	is_array(vulnerabilities)
	some j, v in vulnerabilities
	is_object(v)
	severity := severity_of(v)
	object.get(ranks, severity, 0) >= threshold
	not unfixed_left_out(v)
	id := text(v, "VulnerabilityID")
	not allowed(id)
	path := sprintf("/report/Results/%d/Vulnerabilities/%d", [i, j])
	msg := concat("", [
		sprintf("%s (%s) in %s %s, %s", [id, severity, text(v, "PkgName"), text(v, "InstalledVersion"), fix_text(v)]),
		suffix(": %s", text(v, "Title")),
		suffix(" (%s)", refusals(id)),
	])
	details := {
		"vulnerabilityID": id,
		"severity": severity,
		"pkgName": text(v, "PkgName"),
		"installedVersion": text(v, "InstalledVersion"),
		"fixedVersion": text(v, "FixedVersion"),
		"status": text(v, "Status"),
		"title": text(v, "Title"),
		"primaryURL": text(v, "PrimaryURL"),
		"target": text(result, "Target"),
	}
}

unfixed_left_out(v) if {
	ignore_unfixed
	not fixed(v)
}

suffix(format, s) := sprintf(format, [s]) if {
	s != ""
} else := ""
