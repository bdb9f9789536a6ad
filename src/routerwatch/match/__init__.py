"""CVE matching: product catalog, NVD configuration evaluator, CVE 5 fallback, matcher."""

from routerwatch.match.matcher import Matcher, sort_findings

__all__ = ["Matcher", "sort_findings"]
