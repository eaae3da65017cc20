"""Assessment (考核): the reporter's satisfaction, figures per person, unit and grid tier, discovery by channel, and
the monthly bulletin with its ranking (红黑榜). Modules: ``satisfaction``, ``figures``, ``bulletin``, ``html``.
"""
