"""The planner's workbench: edit a draft plan by road blocks with live checks, undo and redo, compare two plans
(diff and lineage), see the impact on cases and assignments, and publish with a filing record (备案).

Modules: ``roads`` (a plan's road network), ``blocks`` (editing units), ``drafts`` (copy, prepare), ``ops`` (the
operations), ``work`` (one edit's working set), ``journal`` (transitions, undo/redo), ``checks`` (live checks),
``edits`` (the edit flow), ``diff``, ``impact``, ``publish``, ``tiles``.
"""
