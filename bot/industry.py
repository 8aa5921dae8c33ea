"""Which industry is the user talking about, and how is it graded (附件3, 重庆).

`resolve_industry` maps free text (official names, branch names, everyday names, typos, whole
sentences) to industries of 附件3; `tier_scheme` tells the grading scheme of an industry/branch.
Neither raises on unknown input: results carry `found=False`, a Chinese message and suggestions.

This module is the public face; the work lives in:

- `vocabulary`: the terms of 附件3 (names, branches, synonyms), `clean`, `edit_distance`;
- `soundalike`: pinyin IME typos (陶磁 → 陶瓷);
- `term_match`: the matching stages (exact, contained, partial, homophone, fuzzy) and suggestions;
- `negation`: "不是X" and its kin;
- `industry_resolution`: `resolve_industry`, `lookup` and their results;
- `grading`: `tier_scheme`, `find_branch` and their results.
"""
from __future__ import annotations

from jixiao.bot.grading import BasisRef, BranchScheme, TierSchemeResult, find_branch, tier_scheme
from jixiao.bot.industry_resolution import JURISDICTION, IndustryMatch, IndustryResolution, lookup, resolve_industry
from jixiao.bot.vocabulary import clean, edit_distance

__all__ = [
    "JURISDICTION", "BasisRef", "BranchScheme", "IndustryMatch", "IndustryResolution", "TierSchemeResult",
    "clean", "edit_distance", "find_branch", "lookup", "resolve_industry", "tier_scheme",
]
