"""Reports and cases (案件): intake, the 立案→派遣→处置→核查→结案 workflow, working-time limits, escalation, indicators.

Modules, one job each: ``models`` (tables), ``categories`` (部件/事件 codes), ``calendar`` (working time),
``workflow`` (the transition table), ``intake`` (reports → cases, idempotent), ``media`` (photos),
``escalation`` (overdue detection), ``stats`` (indicators), ``views`` (privacy-aware serialisation).
"""
