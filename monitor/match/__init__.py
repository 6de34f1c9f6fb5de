"""PURE: items -> explained matches: folding, the term vocabulary, one scan per item, rule
evaluation and explanations; countries from the gazetteer."""

from monitor.match.matcher import Matcher, stem

__all__ = ["Matcher", "stem"]
