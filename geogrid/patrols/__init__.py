"""Patrols (巡查): GPS tracks of grid members, the grids each track visited, and weekly compliance per grid
(seeds/001: 网格员每周到网格责任区内开展巡查工作不少于3次). Modules: ``models``, ``settings``, ``tracks``
(parse, clean, store, derive visits in PostGIS), ``compliance`` (per grid and week).
"""
