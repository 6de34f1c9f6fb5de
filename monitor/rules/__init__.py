"""Rule files -> RuleSet: loading, the rule model, and checks that name every problem."""

from monitor.rules.load import load_rules
from monitor.rules.model import Near, NearPair, Rule, RuleSet, Term

__all__ = ["Near", "NearPair", "Rule", "RuleSet", "Term", "load_rules"]
