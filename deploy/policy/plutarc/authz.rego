# plutarc authorization: the one policy. Deny by default.
#
# input = {"actor": {"id": str, "role": str}, "permission": str, "resource": {...optional attrs}}
# data.plutarc.catalogue = roles (rank, cumulative grants) and permissions, generated from
# plutarc_contracts.permissions into data.json next to this file (scripts/gen_policy_data.py).
#
# The vocabulary (which role grants what) is data; the rules below are the only logic.
# A request is allowed iff the actor's role grants the permission and no rule adds a reason.
#
# Engines cache decisions per (role, permission, resource.target_role, target_user_id == actor.id):
# a new rule that reads any other input must also be added to that cache key (plutarc_access).
# For the same reason, reasons never quote the actor's or target user's id.
package plutarc.authz

import rego.v1

default allow := false

catalogue := data.plutarc.catalogue

actor_role := input.actor.role

# Permissions that hand a role to someone else.
escalation_guarded := {"roles:assign", "invitations:create"}

# Only the owner may end or give away the workspace (also true by grants; kept explicit).
owner_only := {"workspace:archive", "workspace:transfer_ownership"}

# Ranks are complete rules (computed once per query, undefined for an unknown role), so a defined
# rank also means "this role exists". Measured with regopy: a `known_role(r)` function, or testing
# the whole `roles[r]` object instead of its rank, made every decision about 2.5x slower.
actor_rank := catalogue.roles[actor_role].rank

granted if input.permission in catalogue.roles[actor_role].grants

allow if {
	granted
	count(reasons) == 0
}

# The whole answer in one query: engines read this rather than `allow` alone.
decision := {"allow": allow, "reasons": reasons}

reasons contains "input.actor.role is missing" if not input.actor.role

reasons contains "input.permission is missing" if not input.permission

reasons contains msg if {
	not actor_rank
	msg := sprintf("unknown role '%v'", [actor_role])
}

reasons contains msg if {
	not catalogue.permissions[input.permission]
	msg := sprintf("unknown permission '%v'", [input.permission])
}

reasons contains msg if {
	actor_rank
	catalogue.permissions[input.permission]
	not granted
	msg := sprintf("role '%v' does not grant '%v'", [actor_role, input.permission])
}

# Escalation: a role can only be handed out by someone who holds at least that role.

target_role := input.resource.target_role

target_rank := catalogue.roles[target_role].rank

reasons contains msg if {
	input.permission in escalation_guarded
	not target_role
	msg := sprintf("'%v' needs resource.target_role", [input.permission])
}

reasons contains msg if {
	input.permission in escalation_guarded
	target_role
	not target_rank
	msg := sprintf("unknown target role '%v'", [target_role])
}

reasons contains msg if {
	input.permission in escalation_guarded
	target_rank > actor_rank
	msg := sprintf("role '%v' cannot hand out the higher role '%v'", [actor_role, target_role])
}

reasons contains "only an owner can make someone an owner" if {
	input.permission in escalation_guarded
	target_role == "owner"
	actor_role != "owner"
}

reasons contains "nobody can change their own role" if {
	input.permission == "roles:assign"
	input.resource.target_user_id == input.actor.id
}

reasons contains msg if {
	input.permission in owner_only
	actor_role != "owner"
	msg := sprintf("only the owner can '%v'", [input.permission])
}
