"""Supervision (督办): what a grid office runs on besides the case workflow itself.

Modules, one job each: ``models`` (co-handling units, duty sites and rules, filings), ``hooks`` (what every workflow
event also writes: its notification, its filing), ``deadlines`` (warnings at a share of the limit, then escalation),
``joint`` (co-handling units and their feedback), ``duty`` (several units per grid by category; sites whose rules
override the grid's), ``sites`` (importing the site layer), ``scope`` (operators of a district or street centre),
``limits`` (the 5-working-day cap), ``onspot`` (a collector reports and closes in one step).
"""
