"""What a rollback declares besides the state before: the routes and rules the plan adds, absent.

Routes and rules are declared additively (a route the file leaves out stays), so the state before,
declared, would keep those the change added; each is declared `state: absent` by its key. One that
was there before is declared present too, and a present declaration wins over an absent one.
"""

from __future__ import annotations

from linkctl.model.l3 import EntryState, RouteEntry, RouteRuleEntry, RouteRulesSection, RoutesSection
from linkctl.model.spec import Declaration
from linkctl.plan.convert_l3 import route_entries, rule_entry
from linkctl.plan.l3_ops import SetRoute, SetRule
from linkctl.plan.ops import Op


def undo_entries(before: Declaration, ops: list[Op]) -> Declaration:
    routes: list[RouteEntry] = []
    rules: list[RouteRuleEntry] = []
    for op in ops:
        if isinstance(op, SetRoute) and op.add and not op.replace:
            entry = route_entries(op.route, op.netns)[0]
            routes.append(
                RouteEntry(
                    state=EntryState.ABSENT,
                    destination=entry.destination,
                    table_id=entry.table_id,
                    metric=entry.metric,
                    route_type=entry.route_type,
                    netns=op.netns,
                )
            )
        elif isinstance(op, SetRule) and op.add:
            rules.append(rule_entry(op.rule, op.netns).model_copy(update={"state": EntryState.ABSENT}))
    if not routes and not rules:
        return before
    old_routes = before.routes.config if before.routes and before.routes.config else []
    old_rules = before.route_rules.config if before.route_rules and before.route_rules.config else []
    return before.model_copy(
        update={
            "routes": RoutesSection(config=[*old_routes, *routes]),
            "route_rules": RouteRulesSection(config=[*old_rules, *rules]),
        }
    )
